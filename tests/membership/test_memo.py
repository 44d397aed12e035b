"""The per-request memo of the member's tier and audience (``membership.memo``): read once
per request, never across requests, and cleared by the request's own writes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Tag
from membership import memo, selectors
from membership.models import MemberProfile, MemberScore, Tier
from membership.tiers import tier_evaluate
from orders.cart import CartOwner, cart_add_item
from tests.factories import ProductFactory
from tests.membership.conftest import completed_order

pytestmark = pytest.mark.django_db


def _score(member, **flags):
    return MemberScore.objects.create(
        user=member, as_of="2026-01-01", horizon_days=90, p_return=0.2,
        expected_orders=1.0, expected_spend=Decimal("10.00"), **flags,
    )  # fmt: skip


def test_audience_reads_profile_and_score_in_one_query(member, django_assert_num_queries):
    MemberProfile.objects.create(
        user=member, rfm_segment="at_risk", cluster="", data={"tags": ["price:budget"]}
    )
    _score(member, at_risk=True, high_potential=True)
    member.profile.tags.add(Tag.objects.create(name="VIP", slug="vip"))

    with django_assert_num_queries(3):  # tier; profile + score; staff tags
        audience = selectors.member_audience(member)

    assert audience == {
        "tier": "bronze",
        "tier_rank": 0,
        "segments": ["at_risk", "churn_risk", "high_potential"],
        "tags": ["price:budget", "staff:vip"],
    }


def test_audience_with_a_score_but_no_profile(member):
    _score(member, high_potential=True)

    assert selectors.member_audience(member)["segments"] == ["high_potential"]


def test_outside_a_request_nothing_is_remembered(member, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.member_tier(member)
        selectors.member_tier(member)


def test_inside_a_scope_the_tier_is_read_once(member, django_assert_num_queries):
    with memo.request_scope(), django_assert_num_queries(3):
        selectors.member_tier(member)
        selectors.member_audience(member)  # its tier is the remembered one
        selectors.points_multiplier(member)
        selectors.member_audience(member)


def test_a_tier_change_in_the_same_request_is_seen(member, now):
    with memo.request_scope():
        assert selectors.member_tier(member).code == "bronze"
        completed_order(member, "5000.00", now - timedelta(days=1))
        tier_evaluate(user_id=member.pk, now=now)
        assert selectors.member_tier(member).code == "gold"
        assert selectors.member_audience(member)["tier"] == "gold"


def test_staff_tags_profile_and_exclusives_changed_in_the_request_are_seen(member):
    product = ProductFactory()
    with memo.request_scope():
        assert selectors.member_audience(member)["tags"] == []
        assert selectors.restricted_product_ids(member) == set()
        member.profile.tags.add(Tag.objects.create(name="Press", slug="press"))
        MemberProfile.objects.create(user=member, rfm_segment="champions", data={})
        Tier.objects.get(code="gold").exclusive_products.add(product)
        audience = selectors.member_audience(member)
        assert audience["tags"] == ["staff:press"] and audience["segments"] == ["champions"]
        assert selectors.restricted_product_ids(member) == {product.pk}


def test_a_tier_change_between_requests_is_seen(member_client, member, now):
    Tier.objects.filter(code="gold").update(discount_percent=Decimal("10"))
    product = ProductFactory(price=Decimal("100.00"))
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    before = member_client.get(reverse("orders:cart")).context["cart"].priced

    completed_order(member, "5000.00", now - timedelta(days=1))
    tier_evaluate(user_id=member.pk, now=now)
    after = member_client.get(reverse("orders:cart")).context["cart"].priced

    assert not [d for d in before.discounts if d.source == "tier"]
    assert [d.amount for d in after.discounts if d.source == "tier"] == [Decimal("10.00")]


# --- the cached exclusive products ----------------------------------------------------------


def test_exclusives_are_cached_and_every_change_is_seen_at_once(member, django_assert_num_queries):
    product, other = ProductFactory(), ProductFactory()
    gold = Tier.objects.get(code="gold")
    gold.exclusive_products.add(product)
    assert selectors.restricted_product_ids(member) == {product.pk}  # tier + exclusives

    with django_assert_num_queries(1):  # the tier only
        assert selectors.restricted_product_ids(member) == {product.pk}

    gold.exclusive_products.add(other)
    assert selectors.restricted_product_ids(member) == {product.pk, other.pk}
    gold.exclusive_products.remove(product)
    assert selectors.restricted_product_ids(member) == {other.pk}
    Tier.objects.filter(code="platinum").get().exclusive_products.add(product)
    gold.is_active = False
    gold.save()
    assert selectors.restricted_product_ids(member) == {product.pk}


def test_purchase_checks_read_the_database_not_the_cache(member):
    from django.core.cache import cache

    product = ProductFactory()
    Tier.objects.get(code="gold").exclusive_products.add(product)
    cache.set(selectors.EXCLUSIVES_CACHE_KEY, {}, 60)  # as if another process had it stale

    assert selectors.restricted_product_ids(member) == set()  # display: the cache
    assert set(selectors.purchase_restrictions(member, [product.pk])) == {product.pk}


def test_exclusives_cached_before_the_commit_are_dropped_at_commit(
    member, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        Tier.objects.get(code="gold").exclusive_products.add(product)
        from django.core.cache import cache

        cache.set(selectors.EXCLUSIVES_CACHE_KEY, {}, 60)  # another request, before the commit

    assert selectors.restricted_product_ids(member) == {product.pk}


def test_one_cart_request_reads_the_tier_once(member_client, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Tier.objects.get(code="gold").exclusive_products.add(ProductFactory())
    cart_add_item(owner=CartOwner(user=member), product_id=ProductFactory().pk, quantity=1)
    member_client.get(reverse("orders:cart"))

    with CaptureQueriesContext(connection) as queries:
        assert member_client.get(reverse("orders:cart")).status_code == 200

    tier_reads = [q for q in queries.captured_queries if 'FROM "membership_tier"' in q["sql"]]
    # pricing, promotions' audience and recommend's exclusions share one read
    assert len(tier_reads) == 1
