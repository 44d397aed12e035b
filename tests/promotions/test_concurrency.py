"""Coupons, points and the exchange under concurrent requests (PostgreSQL, real threads)."""

from decimal import Decimal

import pytest

from catalog.models import Product
from config.api.errors import DomainError
from orders.cart import CartOwner, cart_add_item
from orders.checkout import order_place
from orders.models import CartItem, Order
from promotions import services
from promotions.exceptions import (
    CouponSoldOut,
    CouponUsed,
    ExchangeLimit,
    ExchangeSoldOut,
    PointsInsufficient,
)
from promotions.models import (
    Coupon,
    CouponCampaign,
    CouponRedemption,
    PointsEntry,
    PointsExchange,
)
from promotions.selectors import points_balance, points_ledger_sum
from tests.factories import (
    AddressFactory,
    CouponCampaignFactory,
    CouponFactory,
    ExchangeItemFactory,
    MemberFactory,
    ProductFactory,
    points_grant,
)
from tests.orders.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
BUYERS = 50


def _buyers(product, n=BUYERS):
    buyers = []
    for _i in range(n):
        member = MemberFactory()
        address = AddressFactory(user=member)
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
        buyers.append((member, address))
    return buyers


def test_fifty_checkouts_with_one_single_use_code_make_exactly_one_order():
    product = ProductFactory(price=D("80.00"), stock=100)
    coupon = CouponFactory(code="ONLYONCE")
    buyers = _buyers(product)

    results, errors = run_in_threads(
        [
            lambda m=m, a=a: order_place(user=m, address_id=a.pk, options={"coupon": "ONLYONCE"})
            for m, a in buyers
        ]
    )

    assert len(results) == 1
    assert len(errors) == BUYERS - 1
    assert all(isinstance(e, CouponUsed) for e in errors), {type(e) for e in errors}
    coupon.refresh_from_db()
    assert coupon.used_count == 1
    assert CouponRedemption.objects.count() == 1
    assert Order.objects.count() == 1
    assert Order.objects.get().discount_total == D("10.00")
    product.refresh_from_db()
    assert product.stock == 99  # the losers' stock was rolled back
    assert CartItem.objects.count() == BUYERS - 1


def test_a_campaign_limited_to_k_uses_gives_exactly_k_orders():
    k = 7
    campaign = CouponCampaignFactory(total_limit=k)
    product = ProductFactory(price=D("80.00"), stock=100)
    buyers = _buyers(product)
    codes = [
        CouponFactory(campaign=campaign, owner=m, code=f"K{i:03d}").code
        for i, (m, _a) in enumerate(buyers)
    ]

    results, errors = run_in_threads(
        [
            lambda m=m, a=a, c=c: order_place(user=m, address_id=a.pk, options={"coupon": c})
            for (m, a), c in zip(buyers, codes, strict=True)
        ]
    )

    assert len(results) == k
    assert all(isinstance(e, CouponSoldOut) for e in errors), {type(e) for e in errors}
    campaign.refresh_from_db()
    assert campaign.used_count == k
    assert Coupon.objects.filter(campaign=campaign, used_count=1).count() == k
    assert Order.objects.count() == k


def test_fifty_concurrent_spends_never_overdraw_the_balance():
    member = MemberFactory()
    points_grant(member, 1000)

    results, errors = run_in_threads(
        [
            lambda: services.points_adjust(user_id=member.pk, amount=-100, reason="spend")
            for _i in range(BUYERS)
        ]
    )

    assert len(results) == 10
    assert all(isinstance(e, PointsInsufficient) for e in errors), {type(e) for e in errors}
    assert points_balance(user=member) == 0 == points_ledger_sum(user=member)
    assert not PointsEntry.objects.filter(user=member, remaining__gt=0).exists()


def test_concurrent_checkouts_spending_points_of_one_member_with_different_carts():
    # one member, points for two orders only; each thread refills the cart first
    member = MemberFactory()
    address = AddressFactory(user=member)
    points_grant(member, 1500)
    product = ProductFactory(price=D("100.00"), stock=100)

    def checkout(i):
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
        return order_place(
            user=member, address_id=address.pk, options={"points": 700}, idempotency_key=f"k{i}"
        )

    results, errors = run_in_threads([lambda i=i: checkout(i) for i in range(20)])

    orders = Order.objects.filter(user=member)
    spent = -sum(
        PointsEntry.objects.filter(user=member, kind="spend").values_list("amount", flat=True)
    )
    assert spent == 700 * orders.filter(discount_total__gt=0).count()
    assert spent <= 1500
    assert points_balance(user=member) == 1500 - spent == points_ledger_sum(user=member)
    assert all(isinstance(e, DomainError) for e in errors), {type(e) for e in errors}  # 4xx only


def test_concurrent_exchanges_never_oversell_the_stock():
    item = ExchangeItemFactory(stock=5, points_cost=300)
    members = [MemberFactory() for _i in range(30)]
    for member in members:
        points_grant(member, 1000)

    results, errors = run_in_threads(
        [lambda m=m: services.points_exchange(user=m, item_id=item.pk) for m in members]
    )

    assert len(results) == 5
    assert all(isinstance(e, ExchangeSoldOut) for e in errors), {type(e) for e in errors}
    item.refresh_from_db()
    assert item.stock == 0
    assert PointsExchange.objects.count() == 5
    assert Coupon.objects.filter(source="exchange").count() == 5
    assert sum(points_balance(user=m) for m in members) == 30 * 1000 - 5 * 300


def test_one_member_racing_exchanges_respects_the_limit_and_the_balance():
    item = ExchangeItemFactory(stock=100, points_cost=300, per_member_limit=2)
    member = MemberFactory()
    points_grant(member, 10_000)

    results, errors = run_in_threads(
        [lambda: services.points_exchange(user=member, item_id=item.pk) for _i in range(20)]
    )

    assert len(results) == 2
    assert all(isinstance(e, ExchangeLimit) for e in errors)
    assert points_balance(user=member) == 10_000 - 600 == points_ledger_sum(user=member)


def test_a_repeated_exchange_key_exchanges_once():
    item = ExchangeItemFactory(stock=100, points_cost=300)
    member = MemberFactory()
    points_grant(member, 10_000)

    results, errors = run_in_threads(
        [
            lambda: services.points_exchange(user=member, item_id=item.pk, idempotency_key="same")
            for _i in range(20)
        ]
    )

    assert not errors
    assert len({r.pk for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert PointsExchange.objects.count() == 1
    assert points_balance(user=member) == 9_700


def test_a_repeated_checkout_key_with_a_coupon_and_points_redeems_once():
    product = ProductFactory(price=D("80.00"), stock=100)
    ((member, address),) = _buyers(product, 1)
    points_grant(member, 1000)
    CouponFactory(code="ONCE", campaign=CouponCampaignFactory(per_member_limit=None))

    results, errors = run_in_threads(
        [
            lambda: order_place(
                user=member,
                address_id=address.pk,
                idempotency_key="checkout-1",
                options={"coupon": "ONCE", "points": 500},
            )
            for _i in range(15)
        ]
    )

    assert not errors
    assert len({o.pk for o in results}) == 1
    assert CouponRedemption.objects.count() == 1
    assert points_balance(user=member) == 500
    assert Product.objects.get(pk=product.pk).stock == 99
    assert CouponCampaign.objects.get().used_count == 1


def test_a_promotion_budget_is_never_overspent_by_concurrent_checkouts():
    from promotions.exceptions import PromotionExhausted
    from promotions.models import Promotion
    from tests.factories import PromotionFactory

    promotion = PromotionFactory(code="budget", tiers=[["50.00", "10.00"]], budget=D("50.00"))
    product = ProductFactory(price=D("80.00"), stock=100)
    buyers = _buyers(product, 20)

    results, errors = run_in_threads(
        [lambda m=m, a=a: order_place(user=m, address_id=a.pk) for m, a in buyers]
    )

    promotion.refresh_from_db()
    assert promotion.spent <= promotion.budget
    assert promotion.spent == D("10.00") * promotion.uses
    discounted = Order.objects.filter(discount_total=D("10.00")).count()
    assert discounted == promotion.uses == 5
    # a checkout priced before the budget ran out is refused (409) and writes nothing
    assert all(isinstance(e, PromotionExhausted) for e in errors), {type(e) for e in errors}
    assert len(results) + len(errors) == 20
    assert Promotion.objects.get(pk=promotion.pk).spent == D("50.00")


def test_a_free_shipping_budget_and_per_member_limit_hold_under_concurrent_checkouts(settings):
    from promotions.exceptions import PromotionExhausted
    from promotions.models import OrderDiscount, Promotion
    from tests.factories import PromotionFactory

    settings.SHIPPING_FEE, settings.FREE_SHIPPING_THRESHOLD = "10.00", "99.00"
    promotion = PromotionFactory(
        code="ship", kind="free_shipping", tiers=[], min_spend=D("0"), budget=D("50.00")
    )
    product = ProductFactory(price=D("20.00"), stock=100)
    buyers = _buyers(product, 20)

    results, errors = run_in_threads(
        [lambda m=m, a=a: order_place(user=m, address_id=a.pk) for m, a in buyers]
    )

    promotion.refresh_from_db()
    assert promotion.spent == D("50.00") and promotion.uses == 5
    free = Order.objects.filter(shipping_fee=D("0.00"))
    assert free.count() == 5 == OrderDiscount.objects.filter(source="shipping").count()
    assert all(isinstance(e, PromotionExhausted) for e in errors), {type(e) for e in errors}
    assert len(results) + len(errors) == 20
    assert Promotion.objects.get(pk=promotion.pk).spent <= promotion.budget


def test_concurrent_deliveries_of_one_issue_batch_give_each_member_one_coupon():
    campaign = CouponCampaignFactory()
    ids = [MemberFactory().pk for _i in range(20)]

    results, errors = run_in_threads(
        [
            lambda: services.coupons_issue(campaign_id=campaign.pk, user_ids=ids, batch="b1")
            for _i in range(8)
        ]
    )

    assert not errors
    assert sorted(results) == [0] * 7 + [20]
    assert Coupon.objects.filter(campaign=campaign).count() == 20
    assert CouponCampaign.objects.get(pk=campaign.pk).issued_count == 20
