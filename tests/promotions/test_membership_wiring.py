"""Promotions and membership as the shop wires them (settings, no fixture providers).

The promotions tests use fixture providers for tiers and segments; these check the
real hooks: membership's audience, tier privileges in the pricing pipeline, the tier's
points multiplier, and membership's tier choices in the promotion form.
"""

from decimal import Decimal

import pytest

from membership.models import Tier
from membership.tiers import tier_set
from orders.cart import CartOwner, cart_add_item, cart_view
from promotions.services import points_earn_for_order
from tests.factories import MemberFactory, ProductFactory, PromotionFactory, order_with_items

D = Decimal

pytestmark = pytest.mark.django_db


def _gold(member):
    tier_set(user_id=member.pk, tier=Tier.objects.get(code="gold"))
    return member


def _priced(member, price: str):
    product = ProductFactory(price=D(price), stock=10)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    return cart_view(owner=CartOwner(user=member), options={}).priced


def test_a_gold_only_promotion_then_the_gold_discount():
    PromotionFactory(code="gold-200-20", tiers=[["200.00", "20.00"]], tier_codes=["gold"])
    member = _gold(MemberFactory())

    priced = _priced(member, "250.00")

    by_source = {d.source: d.amount for d in priced.discounts}
    assert by_source == {"promotion": D("20.00"), "tier": D("11.50")}  # 5 % of 230.00
    assert priced.total == D("218.50")  # shipping free: the shop's own threshold (99.00)


def test_gold_ships_free_below_the_shop_threshold():
    member = _gold(MemberFactory())

    priced = _priced(member, "50.00")

    assert priced.shipping_fee == D("0.00") and priced.free_shipping.source == "tier"
    assert priced.total == D("47.50")  # 5 % off 50.00


def test_a_member_of_the_entry_tier_gets_neither():
    PromotionFactory(code="gold-200-20", tiers=[["200.00", "20.00"]], tier_codes=["gold"])

    priced = _priced(MemberFactory(), "250.00")

    assert priced.discounts == []
    assert priced.total == D("250.00")  # the shop's own free shipping from 99.00


def test_completed_orders_earn_points_times_the_gold_multiplier():
    member = _gold(MemberFactory())
    order = order_with_items(
        user=member, products=[ProductFactory(price=D("120.50"))], status="completed"
    )

    entry = points_earn_for_order(order_id=order.pk)

    assert entry.amount == 180  # floor(120.50 × 1 point per 1.00 × 1.5)
