"""Promotions in pricing (hooks, windows, limits), coupons, points and order reactions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from orders import refunds
from orders import services as order_services
from orders.cart import CartOwner, cart_add_item, cart_view
from orders.checkout import order_place
from orders.paying import order_pay
from promotions import services
from promotions.exceptions import (
    CouponBelowMinSpend,
    CouponClaimLimit,
    CouponExpired,
    CouponMemberLimit,
    CouponNotEligible,
    CouponNotYetValid,
    CouponNotYours,
    CouponOutOfScope,
    CouponSoldOut,
    CouponUnknown,
    CouponUsed,
    PointsError,
    PointsInsufficient,
)
from promotions.models import (
    Coupon,
    CouponCampaign,
    CouponRedemption,
    OrderDiscount,
    PointsEntry,
    Promotion,
)
from promotions.selectors import points_balance, points_expiring, points_ledger_sum, wallet
from tests.factories import (
    AddressFactory,
    CategoryFactory,
    CouponCampaignFactory,
    CouponFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
    points_grant,
)

D = Decimal
pytestmark = pytest.mark.django_db

AUDIENCES: dict[int, dict] = {}


def fixture_audience(user):
    return AUDIENCES.get(user.pk, {})


def fixture_choices():
    return {"tiers": [("gold", "Gold"), ("silver", "Silver")], "segments": [], "tags": []}


def fixture_multiplier(user):
    return D("1.5") if AUDIENCES.get(user.pk, {}).get("tier") == "gold" else D("1")


SEGMENTS: dict[str, list[int]] = {}


def fixture_segment_members(code):
    return SEGMENTS.get(code, [])


HOOKS = {
    "PROMOTIONS_AUDIENCE_PROVIDER": "tests.promotions.test_services.fixture_audience",
    "PROMOTIONS_POINTS_MULTIPLIER_PROVIDER": "tests.promotions.test_services.fixture_multiplier",
    "PROMOTIONS_SEGMENT_MEMBERS_PROVIDER": "tests.promotions.test_services.fixture_segment_members",
}


def _cart(member, *specs, category=None):
    products = []
    for price, quantity in specs:
        kwargs = {"category": category} if category else {}
        product = ProductFactory(price=D(price), stock=50, **kwargs)
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=quantity)
        products.append(product)
    return products


def _priced(member, **options):
    return cart_view(owner=CartOwner(user=member), options=options).priced


# --- promotions in pricing -----------------------------------------------------------------


def test_threshold_promotion_applies_and_hints_the_next_step():
    PromotionFactory(code="m200", name="200 off 20", tiers=[["200.00", "20.00"]])
    member = MemberFactory()
    _cart(member, ("165.00", 1))

    priced = _priced(member)

    assert priced.discount_total == 0
    (hint,) = [h for h in priced.hints if h.code == "promotion_threshold"]
    assert hint.amount == D("35.00")
    assert "35.00" in hint.message and "20.00" in hint.message


def test_promotions_outside_their_window_or_inactive_do_not_apply():
    now = timezone.now()
    PromotionFactory(
        code="past", starts_at=now - timedelta(days=5), ends_at=now - timedelta(days=1)
    )
    PromotionFactory(code="future", starts_at=now + timedelta(days=1))
    PromotionFactory(code="off", is_active=False)
    member = MemberFactory()
    _cart(member, ("300.00", 1))
    assert _priced(member).discount_total == 0


def test_a_category_promotion_covers_its_subcategories():
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    promotion = PromotionFactory(code="dept", kind="percent_off", percent=D("10"), tiers=[])
    promotion.categories.set([parent])
    member = MemberFactory()
    _cart(member, ("50.00", 1), category=child)
    _cart(member, ("50.00", 1))  # another category
    assert _priced(member).discount_total == D("5.00")


@override_settings(**HOOKS)
def test_tier_scoped_promotion_applies_only_to_that_tier():
    PromotionFactory(code="gold-only", tier_codes=["gold"], tiers=[["100.00", "15.00"]])
    gold, silver = MemberFactory(), MemberFactory()
    AUDIENCES[gold.pk] = {"tier": "gold", "tier_rank": 3, "segments": [], "tags": []}
    AUDIENCES[silver.pk] = {"tier": "silver", "tier_rank": 2, "segments": ["vip"], "tags": []}
    _cart(gold, ("120.00", 1))
    _cart(silver, ("120.00", 1))

    assert _priced(gold).discount_total == D("15.00")
    assert _priced(silver).discount_total == 0


@override_settings(**HOOKS)
def test_segment_tag_and_rank_scopes_read_the_audience_hook():
    PromotionFactory(code="seg", segment_codes=["vip"], tiers=[["10.00", "1.00"]])
    PromotionFactory(code="tag", tag_codes=["coffee"], tiers=[["10.00", "2.00"]])
    PromotionFactory(code="rank", min_tier_rank=3, tiers=[["10.00", "4.00"]])
    member = MemberFactory()
    AUDIENCES[member.pk] = {"tier": "gold", "tier_rank": 3, "segments": ["vip"], "tags": []}
    _cart(member, ("100.00", 1))
    codes = {d.code for d in _priced(member).discounts}
    assert codes == {"seg", "rank"}


def test_without_an_audience_provider_scoped_promotions_never_apply():
    PromotionFactory(code="gold-only", tier_codes=["gold"])
    member = MemberFactory()
    _cart(member, ("300.00", 1))
    assert _priced(member).discount_total == 0


def test_per_member_use_limit_counts_placed_orders():
    PromotionFactory(code="once", tiers=[["10.00", "3.00"]], per_member_limit=1)
    member = MemberFactory()
    address = AddressFactory(user=member)
    _cart(member, ("20.00", 1))
    first = order_place(user=member, address_id=address.pk)
    assert first.discount_total == D("3.00")

    _cart(member, ("20.00", 1))
    priced = _priced(member)
    assert priced.discount_total == 0
    row = next(r for r in priced.explanation if r.get("code") == "once")
    assert row["reason"] == "member_limit"


def test_budget_cap_limits_the_last_discount_and_then_stops():
    promotion = PromotionFactory(code="budget", tiers=[["10.00", "5.00"]], budget=D("8.00"))
    for _i in range(2):
        member = MemberFactory()
        address = AddressFactory(user=member)
        _cart(member, ("20.00", 1))
        order_place(user=member, address_id=address.pk)
    promotion.refresh_from_db()
    assert promotion.spent == D("8.00")  # 5.00, then the 3.00 left
    member = MemberFactory()
    _cart(member, ("20.00", 1))
    assert _priced(member).discount_total == 0


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_free_shipping_promotion_lowers_the_threshold():
    PromotionFactory(code="ship59", name="From 59", kind="free_shipping", min_spend=D("59.00"))
    member = MemberFactory()
    _cart(member, ("59.00", 1))
    priced = _priced(member)
    assert priced.shipping_fee == 0
    assert priced.free_shipping.code == "ship59"


# --- coupons ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setup,error",
    [
        ("unknown", CouponUnknown),
        ("expired", CouponExpired),
        ("not_yet_valid", CouponNotYetValid),
        ("used", CouponUsed),
        ("out_of_scope", CouponOutOfScope),
        ("below_min_spend", CouponBelowMinSpend),
        ("not_yours", CouponNotYours),
        ("sold_out", CouponSoldOut),
    ],
)
def test_each_bad_coupon_is_rejected_with_its_own_error(setup, error):
    now = timezone.now()
    member = MemberFactory()
    _cart(member, ("80.00", 1))
    campaign = CouponCampaignFactory()
    code = "GOOD"
    if setup == "unknown":
        code = "NOPE"
    elif setup == "expired":
        campaign.ends_at = now - timedelta(minutes=1)
    elif setup == "not_yet_valid":
        campaign.starts_at = now + timedelta(days=2)
    elif setup == "out_of_scope":
        campaign.save()
        campaign.categories.set([CategoryFactory()])
    elif setup == "below_min_spend":
        campaign.min_spend = D("80.01")
    elif setup == "sold_out":
        campaign.total_limit, campaign.used_count = 1, 1
    campaign.save()
    CouponFactory(
        campaign=campaign,
        code="GOOD",
        used_count=1 if setup == "used" else 0,
        owner=MemberFactory() if setup == "not_yours" else None,
    )

    priced = _priced(member, coupon=code.lower())

    (rejection,) = priced.rejections
    assert rejection.option == "coupon"
    assert isinstance(rejection.error, error)
    assert rejection.code == error.code
    assert rejection.message
    assert priced.discount_total == 0


def test_min_spend_boundary_equal_is_enough():
    campaign = CouponCampaignFactory(min_spend=D("80.00"))
    CouponFactory(campaign=campaign, code="MIN80")
    member = MemberFactory()
    _cart(member, ("80.00", 1))
    priced = _priced(member, coupon="MIN80")
    assert not priced.rejections and priced.discount_total == D("10.00")


def test_below_min_spend_message_says_how_much_more():
    CouponFactory(campaign=CouponCampaignFactory(min_spend=D("100.00")), code="MIN100")
    member = MemberFactory()
    _cart(member, ("65.00", 1))
    (rejection,) = _priced(member, coupon="MIN100").rejections
    assert "35.00" in rejection.message
    assert rejection.detail["missing"] == "35.00"


@override_settings(**HOOKS)
def test_tier_scoped_campaign_refuses_other_tiers():
    CouponFactory(campaign=CouponCampaignFactory(tier_codes=["gold"]), code="GOLD")
    member = MemberFactory()
    AUDIENCES[member.pk] = {"tier": "silver"}
    _cart(member, ("80.00", 1))
    (rejection,) = _priced(member, coupon="GOLD").rejections
    assert isinstance(rejection.error, CouponNotEligible)


def test_percentage_coupon_is_capped_and_scoped_to_its_brand():
    product = ProductFactory(price=D("300.00"))
    campaign = CouponCampaignFactory(kind="percent", value=D("15"), max_discount=D("30.00"))
    campaign.brands.set([product.brand])
    CouponFactory(campaign=campaign, code="P15")
    member = MemberFactory()
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    _cart(member, ("100.00", 1))  # another brand, not discounted
    priced = _priced(member, coupon="P15")
    assert priced.discount_total == D("30.00")
    assert priced.line_for(product.pk).discount == D("30.00")


def test_public_code_is_claimed_into_the_wallet_once():
    campaign = CouponCampaignFactory(public_code="WELCOME10", per_member_limit=1)
    member = MemberFactory()

    coupon = services.coupon_claim(user=member, code=" welcome10 ")

    assert coupon.owner == member and coupon.campaign == campaign
    assert [row.coupon for row in wallet(user=member)] == [coupon]
    with pytest.raises(CouponClaimLimit):
        services.coupon_claim(user=member, code="WELCOME10")
    campaign.refresh_from_db()
    assert campaign.issued_count == 1


def test_claiming_a_generated_code_moves_it_to_the_wallet_and_others_cannot_use_it():
    CouponFactory(code="SINGLE1")
    member, other = MemberFactory(), MemberFactory()
    services.coupon_claim(user=member, code="SINGLE1")
    with pytest.raises(CouponNotYours):
        services.coupon_claim(user=other, code="SINGLE1")
    _cart(other, ("50.00", 1))
    assert isinstance(_priced(other, coupon="SINGLE1").rejections[0].error, CouponNotYours)


def test_checkout_with_a_public_code_claims_and_redeems_in_one_go():
    campaign = CouponCampaignFactory(public_code="SPRING", per_member_limit=1)
    member = MemberFactory()
    address = AddressFactory(user=member)
    _cart(member, ("50.00", 1))

    order = order_place(user=member, address_id=address.pk, options={"coupon": "spring"})

    assert order.discount_total == D("10.00")
    redemption = CouponRedemption.objects.get(order=order)
    assert redemption.coupon.owner == member and redemption.campaign == campaign
    _cart(member, ("50.00", 1))
    with pytest.raises(CouponMemberLimit):
        order_place(user=member, address_id=address.pk, options={"coupon": "SPRING"})


@override_settings(**HOOKS)
def test_issuing_to_a_segment_and_to_members():
    campaign = CouponCampaignFactory()
    members = [MemberFactory() for _i in range(3)]
    SEGMENTS["lapsed"] = [m.pk for m in members[:2]]
    from promotions.tasks import issue_to_segment

    assert issue_to_segment.delay(campaign.pk, "lapsed", "b1").get() == 2
    assert issue_to_segment.delay(campaign.pk, "lapsed", "b1").get() == 0  # same batch: no doubles
    assert services.coupons_issue(campaign_id=campaign.pk, user_ids=[members[2].pk]) == 1
    assert Coupon.objects.filter(campaign=campaign, owner__isnull=False).count() == 3


def test_generating_codes_makes_unique_unclaimed_single_use_codes():
    campaign = CouponCampaignFactory()
    assert services.coupons_generate(campaign_id=campaign.pk, count=250, prefix="vip") == 250
    codes = list(Coupon.objects.filter(campaign=campaign).values_list("code", flat=True))
    assert len(set(codes)) == 250 and all(c.startswith("VIP") for c in codes)
    assert not Coupon.objects.filter(campaign=campaign, owner__isnull=False).exists()


# --- points -----------------------------------------------------------------------------------


def _complete(order, member):
    staff = MemberFactory(is_staff=True)
    order_pay(order_id=order.pk, user=member)
    order_services.order_ship(order_id=order.pk, by=staff)
    order_services.order_deliver(order_id=order.pk, by=staff)
    order_services.order_confirm_receipt(order_id=order.pk, user=member)


@override_settings(**HOOKS, PROMOTIONS_POINTS_EARN_RATE="1")
def test_completion_earns_points_times_the_tier_multiplier_once(on_commit):
    member = MemberFactory()
    AUDIENCES[member.pk] = {"tier": "gold"}
    address = AddressFactory(user=member)
    _cart(member, ("120.50", 1))
    order = order_place(user=member, address_id=address.pk)

    with on_commit():
        _complete(order, member)

    entry = PointsEntry.objects.get(order=order, kind="earn")
    assert entry.amount == 180  # floor(120.50 × 1.5)
    assert entry.expires_at is not None and entry.remaining == 180
    assert services.points_earn_for_order(order_id=order.pk) is None  # idempotent
    assert points_balance(user=member) == 180 == points_ledger_sum(user=member)


def test_refund_reverses_earned_points_and_returns_spent_points_pro_rata(on_commit):
    member = MemberFactory()
    address = AddressFactory(user=member)
    points_grant(member, 2000)
    first, second = _cart(member, ("100.00", 1), ("100.00", 1))
    order = order_place(user=member, address_id=address.pk, options={"points": 2000})
    assert order.total == D("180.00")  # 200 - 20.00 of points
    with on_commit():
        _complete(order, member)
    earned = PointsEntry.objects.get(order=order, kind="earn").amount
    assert earned == 180

    item = order.items.get(product=first)
    with on_commit():
        refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)], by=member)

    # half the money back: half the earned points reversed, half the spent points returned
    assert PointsEntry.objects.get(order=order, kind="reverse").amount == -90
    assert PointsEntry.objects.get(order=order, kind="return").amount == 1000
    assert points_balance(user=member) == 180 - 90 + 1000 == points_ledger_sum(user=member)

    with on_commit():
        refunds.order_refund(order_id=order.pk, by=member)  # the rest
    assert (
        sum(
            PointsEntry.objects.filter(order=order, kind="reverse").values_list("amount", flat=True)
        )
        == -180
    )
    assert (
        sum(PointsEntry.objects.filter(order=order, kind="return").values_list("amount", flat=True))
        == 2000
    )
    assert points_balance(user=member) == 2000 == points_ledger_sum(user=member)


def test_cancellation_returns_points_promotion_budget_and_coupon_by_policy(on_commit):
    PromotionFactory(code="m100", tiers=[["100.00", "10.00"]])
    keep = CouponCampaignFactory(return_on_cancel=False)
    CouponFactory(campaign=keep, code="KEEP")
    member = MemberFactory()
    address = AddressFactory(user=member)
    points_grant(member, 500)
    _cart(member, ("150.00", 1))
    order = order_place(
        user=member, address_id=address.pk, options={"coupon": "KEEP", "points": 500}
    )

    with on_commit():
        order_services.order_cancel(order_id=order.pk, by=member)

    assert points_balance(user=member) == 500 == points_ledger_sum(user=member)
    promotion = Promotion.objects.get(code="m100")
    assert (promotion.uses, promotion.spent) == (0, D("0.00"))
    assert Coupon.objects.get(code="KEEP").used_count == 1  # this campaign keeps it used
    statuses = dict(OrderDiscount.objects.filter(order=order).values_list("source", "status"))
    assert statuses == {"promotion": "returned", "coupon": "active", "points": "returned"}
    # a second delivery of the signal changes nothing
    services.order_cancelled_returns(order_id=order.pk)
    assert points_balance(user=member) == 500


def test_cancellation_gives_back_a_returnable_coupon(on_commit):
    CouponFactory(code="BACK", campaign=CouponCampaignFactory(return_on_cancel=True))
    member = MemberFactory()
    address = AddressFactory(user=member)
    _cart(member, ("50.00", 1))
    order = order_place(user=member, address_id=address.pk, options={"coupon": "BACK"})
    assert Coupon.objects.get(code="BACK").used_count == 1

    with on_commit():
        order_services.order_cancel(order_id=order.pk, by=member)

    assert Coupon.objects.get(code="BACK").used_count == 0
    assert CouponRedemption.objects.get(order=order).status == "returned"
    assert CouponCampaign.objects.get(coupons__code="BACK").used_count == 0


def test_spending_takes_the_oldest_expiring_lots_first_and_expiry_is_exact():
    member = MemberFactory()
    now = timezone.now()
    old = points_grant(member, 300)
    new = points_grant(member, 300)
    PointsEntry.objects.filter(pk=old.pk).update(expires_at=now + timedelta(days=3))
    PointsEntry.objects.filter(pk=new.pk).update(expires_at=now + timedelta(days=300))

    services.points_adjust(user_id=member.pk, amount=-400, reason="correction")

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.remaining, new.remaining) == (0, 200)
    assert points_expiring(user=member, days=30)[0] == 0
    services.points_expire_member(user_id=member.pk, now=now + timedelta(days=301))
    assert points_balance(user=member) == 0 == points_ledger_sum(user=member)
    assert PointsEntry.objects.get(user=member, kind="expire").amount == -200


def test_expiry_task_is_idempotent():
    from promotions.tasks import expire_points

    member = MemberFactory()
    lot = points_grant(member, 120)
    PointsEntry.objects.filter(pk=lot.pk).update(expires_at=timezone.now() - timedelta(days=1))

    assert expire_points.delay().get() == {"members": 1, "points": 120}
    assert expire_points.delay().get() == {"members": 0, "points": 0}
    assert PointsEntry.objects.filter(kind="expire").count() == 1


def test_adjustments_need_a_reason_and_cannot_overdraw():
    member = MemberFactory()
    with pytest.raises(PointsError):
        services.points_adjust(user_id=member.pk, amount=10, reason="  ")
    with pytest.raises(PointsInsufficient):
        services.points_adjust(user_id=member.pk, amount=-1, reason="fix")
    staff = MemberFactory(is_staff=True)
    entry = services.points_adjust(user_id=member.pk, amount=50, reason="Birthday", by=staff)
    assert (entry.kind, entry.reason, entry.created_by) == ("adjust", "Birthday", staff)


def test_a_refund_before_completion_does_not_count_against_the_points_earned_later(on_commit):
    member = MemberFactory()
    address = AddressFactory(user=member)
    first, second, _third = _cart(member, ("100.00", 1), ("100.00", 1), ("100.00", 1))
    order = order_place(user=member, address_id=address.pk)
    staff = MemberFactory(is_staff=True)
    with on_commit():
        order_pay(order_id=order.pk, user=member)
        item = order.items.get(product=first)
        refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)], by=staff)  # while paid
        order_services.order_ship(order_id=order.pk, by=staff)
        order_services.order_deliver(order_id=order.pk, by=staff)
        order_services.order_confirm_receipt(order_id=order.pk, user=member)
    assert PointsEntry.objects.get(order=order, kind="earn").amount == 200  # what was kept

    other = order.items.get(product=second)
    with on_commit():
        refunds.order_refund(order_id=order.pk, lines=[(other.pk, 1)], by=staff)

    # half of what was paid at completion came back: half the earned points go
    assert PointsEntry.objects.get(order=order, kind="reverse").amount == -100
    assert points_balance(user=member) == 100 == points_ledger_sum(user=member)


@pytest.mark.parametrize("amount", [2**31, -(2**31), 10**20])
def test_an_adjustment_beyond_the_integer_range_is_a_points_error(amount):
    member = MemberFactory()
    points_grant(member, 100)
    with pytest.raises(PointsError):
        services.points_adjust(user_id=member.pk, amount=amount, reason="typo")
    assert points_balance(user=member) == 100 == points_ledger_sum(user=member)


def test_a_credit_that_would_overflow_the_balance_is_a_points_error():
    member = MemberFactory()
    points_grant(member, 2**31 - 10)
    with pytest.raises(PointsError):
        services.points_adjust(user_id=member.pk, amount=10, reason="bonus")
    services.points_adjust(user_id=member.pk, amount=9, reason="bonus")
    assert points_balance(user=member) == 2**31 - 1 == points_ledger_sum(user=member)


def test_a_validity_beyond_the_calendar_gives_a_coupon_without_its_own_end():
    """valid_days is a 32-bit field: a huge value must not overflow the datetime (a 500)."""
    CouponCampaignFactory(public_code="FOREVER", valid_days=3_000_000)
    member = MemberFactory()

    coupon = services.coupon_claim(user=member, code="FOREVER")

    assert coupon.expires_at is None
    assert [row.status for row in wallet(user=member)] == ["usable"]
