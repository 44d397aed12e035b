"""Checkout with promotions, coupons and points: amounts, records, commits and rollbacks."""

from decimal import Decimal

import pytest

from orders.cart import CartOwner, cart_add_item, cart_view
from orders.checkout import order_place
from orders.models import Order, OrderItem
from promotions.exceptions import (
    CouponExpired,
    CouponUsed,
    PointsInsufficient,
    PointsOverLimit,
    PromotionExhausted,
)
from promotions.models import (
    Coupon,
    CouponCampaign,
    CouponRedemption,
    OrderDiscount,
    OrderDiscountLine,
    PointsAccount,
    PointsEntry,
    Promotion,
)
from promotions.selectors import points_ledger_sum
from tests.factories import (
    AddressFactory,
    CouponFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
    points_grant,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _member_with_cart(*specs):
    member = MemberFactory()
    address = AddressFactory(user=member)
    products = []
    for price, quantity in specs:
        product = ProductFactory(price=D(price), stock=50)
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=quantity)
        products.append(product)
    return member, address, products


def test_order_with_promotion_coupon_and_points_records_every_discount_per_line():
    # given 满200减20, a 10.00 coupon and 1,000 points (100 points = 1.00)
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    coupon = CouponFactory(code="TENOFF")
    member, address, (kettle, board) = _member_with_cart(("150.00", 1), ("60.00", 1))
    points_grant(member, 1000)

    # when the member checks out with the coupon and 500 points
    order = order_place(
        user=member, address_id=address.pk, options={"coupon": "tenoff", "points": 500}
    )

    # then 210.00 - 20.00 - 10.00 - 5.00 = 175.00, free shipping
    assert order.subtotal == D("210.00")
    assert order.discount_total == D("35.00")
    assert order.total == D("175.00")
    items = {i.product_id: i for i in OrderItem.objects.filter(order=order)}
    assert sum(i.discount for i in items.values()) == D("35.00")
    records = {r.source: r for r in OrderDiscount.objects.filter(order=order)}
    assert records["promotion"].amount == D("20.00")
    assert records["coupon"].amount == D("10.00")
    assert records["points"].amount == D("5.00") and records["points"].points == 500
    per_line = sum(
        (line.amount for line in OrderDiscountLine.objects.filter(discount__order=order)), D("0")
    )
    assert per_line == D("35.00")
    coupon.refresh_from_db()
    assert coupon.used_count == 1
    assert CouponRedemption.objects.get(order=order).amount == D("10.00")
    promotion = Promotion.objects.get(code="m200")
    assert (promotion.uses, promotion.spent) == (1, D("20.00"))
    assert PointsAccount.objects.get(user=member).balance == 500
    assert points_ledger_sum(user=member) == 500
    assert PointsEntry.objects.get(user=member, kind="spend").order == order


def test_a_used_coupon_is_refused_with_its_code_and_nothing_is_written():
    coupon = CouponFactory(code="ONCE", used_count=1)
    member, address, _products = _member_with_cart(("50.00", 1))

    with pytest.raises(CouponUsed):
        order_place(user=member, address_id=address.pk, options={"coupon": coupon.code})

    assert Order.objects.count() == 0


def test_points_beyond_balance_or_share_are_refused():
    member, address, _products = _member_with_cart(("100.00", 1))
    points_grant(member, 8000)

    with pytest.raises(PointsInsufficient) as beyond_balance:
        order_place(user=member, address_id=address.pk, options={"points": 8001})
    with pytest.raises(PointsOverLimit) as beyond_share:  # at most 50% of 100.00 = 5,000
        order_place(user=member, address_id=address.pk, options={"points": 5001})

    assert beyond_balance.value.detail == {"balance": 8000, "requested": 8001}
    assert beyond_share.value.detail == {"max_points": 5000, "requested": 5001}
    assert "5000" in str(beyond_share.value.message)
    assert Order.objects.count() == 0


def test_a_commit_refusal_rolls_the_whole_order_back():
    # given a promotion whose budget runs out between pricing and commit
    promotion = PromotionFactory(code="tight", tiers=[["10.00", "5.00"]], budget=D("5.00"))
    member, address, (product,) = _member_with_cart(("20.00", 1))
    points_grant(member, 100)
    priced = cart_view(owner=CartOwner(user=member)).priced
    assert priced.discount_total == D("5.00")
    Promotion.objects.filter(pk=promotion.pk).update(spent=D("1.00"))

    # the cart view now offers only 4.00; simulate the race by forcing the stale amount
    from promotions import adjusters

    real = adjusters.promotions_evaluate

    def stale(**kwargs):
        Promotion.objects.filter(pk=promotion.pk).update(spent=D("0.00"))
        result = real(**kwargs)
        Promotion.objects.filter(pk=promotion.pk).update(spent=D("1.00"))
        return result

    adjusters.promotions_evaluate = stale
    try:
        with pytest.raises(PromotionExhausted):
            order_place(user=member, address_id=address.pk, options={"points": 100})
    finally:
        adjusters.promotions_evaluate = real

    # then nothing was written: no order, stock, points or coupon movement
    assert Order.objects.count() == 0
    product.refresh_from_db()
    assert product.stock == 50
    assert PointsAccount.objects.get(user=member).balance == 100


def test_an_expired_coupon_is_refused_at_checkout():
    from django.utils import timezone

    campaign = CouponCampaign.objects.create(
        name="Old",
        value=D("5.00"),
        starts_at=timezone.now() - timezone.timedelta(days=9),
        ends_at=timezone.now() - timezone.timedelta(days=1),
    )
    Coupon.objects.create(campaign=campaign, code="OLD1", source="generated")
    member, address, _products = _member_with_cart(("50.00", 1))
    with pytest.raises(CouponExpired):
        order_place(user=member, address_id=address.pk, options={"coupon": "OLD1"})
