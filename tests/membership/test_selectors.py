"""The cross-app contracts: audience, choices, segment members, multiplier, restrictions,
and the tier's pricing privileges."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import Tag
from membership import selectors
from membership.models import MemberProfile, Segment, SegmentMembership, Tier
from membership.pricing import tier_privileges
from membership.tiers import tier_evaluate
from orders.cart import CartOwner, cart_add_item
from orders.exceptions import ProductUnavailable
from orders.pricing import PricingLine, price_cart
from tests.factories import MemberFactory, ProductFactory
from tests.membership.conftest import completed_order

pytestmark = pytest.mark.django_db


def _gold(member, now):
    completed_order(member, "5000.00", now - timedelta(days=1))
    tier_evaluate(user_id=member.pk, now=now)


def test_audience_of_a_member(member, now):
    _gold(member, now)
    MemberProfile.objects.create(
        user=member, rfm_segment="champions", cluster="cluster-2",
        data={"tags": ["lifecycle:active", "staff:stale"]},
    )  # fmt: skip
    member.profile.tags.add(Tag.objects.create(name="Press", slug="press"))

    audience = selectors.member_audience(member)

    assert audience == {
        "tier": "gold",
        "tier_rank": 2,
        "segments": ["champions", "cluster-2"],
        "tags": ["lifecycle:active", "staff:press"],
    }


def test_audience_of_a_visitor_and_of_a_member_without_history(member):
    assert selectors.member_audience(AnonymousUser()) == {
        "tier": None, "tier_rank": None, "segments": [], "tags": [],
    }  # fmt: skip
    assert selectors.member_audience(member)["tier"] == "bronze"


def test_audience_choices_list_tiers_segments_and_tags():
    Segment.objects.create(code="champions", kind="rfm", name="Champions")

    choices = selectors.audience_choices()

    assert [code for code, _l in choices["tiers"]] == ["bronze", "silver", "gold", "platinum"]
    assert [code for code, _l in choices["segments"]] == [
        "champions",
        "churn_risk",
        "high_potential",
    ]
    assert ("lifecycle:at_risk", "lifecycle: at_risk") in choices["tags"]


def test_segment_member_ids_only_of_that_segment():
    a, b = MemberFactory(), MemberFactory()
    seg = Segment.objects.create(code="loyal", kind="rfm", name="Loyal")
    other = Segment.objects.create(code="lost", kind="rfm", name="Lost")
    SegmentMembership.objects.create(segment=seg, user=a)
    SegmentMembership.objects.create(segment=other, user=b)

    assert list(selectors.segment_member_ids("loyal")) == [a.pk]
    assert list(selectors.segment_member_ids("nope")) == []


def test_points_multiplier_follows_the_tier(member, now):
    assert selectors.points_multiplier(AnonymousUser()) == Decimal("1")
    assert selectors.points_multiplier(member) == Decimal("1.00")
    _gold(member, now)
    assert selectors.points_multiplier(member) == Decimal("1.50")


def test_exclusive_products_are_restricted_below_their_tier(member, now):
    product = ProductFactory(stock=5)
    Tier.objects.get(code="gold").exclusive_products.add(product)

    assert selectors.restricted_product_ids(member) == {product.pk}
    assert selectors.restricted_product_ids(AnonymousUser()) == {product.pk}
    _gold(member, now)
    assert selectors.restricted_product_ids(member) == set()


def test_cart_refuses_a_product_exclusive_to_a_higher_tier(member):
    product = ProductFactory(stock=5)
    Tier.objects.get(code="gold").exclusive_products.add(product)

    with pytest.raises(ProductUnavailable) as error:
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)

    assert "Gold" in str(error.value.message)


def test_checkout_refuses_a_product_that_became_exclusive(member):
    from orders.checkout import order_place
    from tests.factories import AddressFactory

    product = ProductFactory(stock=5)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    Tier.objects.get(code="platinum").exclusive_products.add(product)

    with pytest.raises(ProductUnavailable):
        order_place(user=member, address_id=AddressFactory(user=member).pk)


def test_tier_discount_and_free_shipping_in_pricing(member, now):
    _gold(member, now)  # 5 % off, free shipping from 0
    product = ProductFactory(price=Decimal("19.99"))

    priced = price_cart(
        lines=[PricingLine(product=product, quantity=3)], user=member, pipeline=[tier_privileges]
    )

    assert priced.subtotal == Decimal("59.97")
    assert priced.discounts[0].source == "tier" and priced.discounts[0].code == "gold"
    assert priced.discount_total == Decimal("3.00")  # 2.9985 rounded half-up
    assert priced.shipping_fee == Decimal("0") and priced.free_shipping.source == "tier"


def test_bronze_members_and_visitors_get_no_tier_price_change(member):
    product = ProductFactory(price=Decimal("50.00"))
    for user in (member, AnonymousUser()):
        priced = price_cart(
            lines=[PricingLine(product=product, quantity=1)], user=user, pipeline=[tier_privileges]
        )
        assert priced.discount_total == Decimal("0") and priced.shipping_fee > 0


def test_progress_by_orders_says_one_order_in_the_singular(member, now):
    Tier.objects.filter(code="silver").update(min_spend=0, min_orders=2)
    completed_order(member, "10.00", now - timedelta(days=1))
    tier_evaluate(user_id=member.pk, now=now)

    assert selectors.membership_overview(member)["progress_message"].startswith(
        "Complete 1 more order to reach"
    )
