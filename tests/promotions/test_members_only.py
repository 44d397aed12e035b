"""A promotion limited per member is for members only: a visitor's cart shows it unapplied
with "members only, limit N per member" and what it would save; once logged in it applies
(and checkout, members only, enforces the limit)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.cart import CartOwner, cart_add_item, cart_view
from orders.checkout import order_place
from tests.factories import AddressFactory, MemberFactory, ProductFactory, PromotionFactory

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def limited():
    return PromotionFactory(
        code="once",
        name="First order 10 off",
        kind="fixed_off",
        amount=D("10.00"),
        tiers=[],
        per_member_limit=1,
    )


def test_a_visitors_cart_shows_it_unapplied_with_the_limit_and_the_saving(client, limited):
    product = ProductFactory(price=D("50.00"))
    PromotionFactory(code="open", kind="fixed_off", amount=D("2.00"), tiers=[])
    client.post(reverse("orders:cart_add"), {"product": product.pk, "quantity": 1})

    response = client.get(reverse("orders:cart"))

    priced = response.context["priced"]
    assert priced.discount_total == D("2.00")  # only the promotion for everyone
    row = next(r for r in priced.explanation if r.get("code") == "once")
    assert row["status"] == "not_eligible" and row["reason"] == "members_only"
    assert row["limit"] == 1 and row["amount"] == D("10.00")
    html = response.content.decode()
    assert "Members only, limit 1 per member: log in to use it." in html
    assert 'data-reason="members_only"' in html


def test_a_member_gets_it_once_then_sees_the_limit(limited):
    member = MemberFactory()
    address = AddressFactory(user=member)
    product = ProductFactory(price=D("50.00"), stock=10)
    owner = CartOwner(user=member)

    cart_add_item(owner=owner, product_id=product.pk, quantity=1)
    assert cart_view(owner=owner).priced.discount_total == D("10.00")
    order_place(user=member, address_id=address.pk)

    cart_add_item(owner=owner, product_id=product.pk, quantity=1)
    priced = cart_view(owner=owner).priced
    row = next(r for r in priced.explanation if r.get("code") == "once")
    assert priced.discount_total == D("0.00") and row["reason"] == "member_limit"


def test_another_members_use_does_not_count(limited):
    first, second = MemberFactory(), MemberFactory()
    product = ProductFactory(price=D("50.00"), stock=10)
    cart_add_item(owner=CartOwner(user=first), product_id=product.pk, quantity=1)
    order_place(user=first, address_id=AddressFactory(user=first).pk)

    cart_add_item(owner=CartOwner(user=second), product_id=product.pk, quantity=1)
    assert cart_view(owner=CartOwner(user=second)).priced.discount_total == D("10.00")


def test_the_api_explains_members_only_rows_with_the_limit_field():
    from orders.api.serializers_cart import ExplanationSerializer

    assert "limit" in ExplanationSerializer().fields
