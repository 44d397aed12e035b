"""Coupon campaign options: "can be combined with promotions" (when not, the better of
promotions only and coupon only, explained) and "valid for N days after claim or issue"
(a wallet coupon's own expiry) in pricing, checkout, wallet, API and admin."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from orders.cart import CartOwner, cart_add_item, cart_view
from orders.checkout import order_place
from promotions import services
from promotions.exceptions import CouponExpired
from promotions.models import Coupon, CouponCampaign, CouponRedemption, OrderDiscount, Promotion
from promotions.selectors import wallet
from tests.factories import (
    AddressFactory,
    CouponCampaignFactory,
    CouponFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
    UserFactory,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _cart(member, price="250.00"):
    product = ProductFactory(price=D(price), stock=20)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    return product


def _coupon(code, value, combinable=False, **campaign):
    campaign = CouponCampaignFactory(
        value=D(value), combinable_with_promotions=combinable, **campaign
    )
    return CouponFactory(campaign=campaign, code=code)


def _rows(priced, source):
    return [r for r in priced.explanation if r["source"] == source]


# --- combinable or not ----------------------------------------------------------------------


def test_a_combinable_coupon_stacks_with_promotions():
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    _coupon("BOTH", "15.00", combinable=True)
    member = MemberFactory()
    _cart(member)

    priced = cart_view(owner=CartOwner(user=member), options={"coupon": "BOTH"}).priced

    assert priced.discount_total == D("35.00")


def test_promotions_win_when_they_save_more_and_the_coupon_stays_unused():
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    coupon = _coupon("SOLO15", "15.00")
    member = MemberFactory()
    address = AddressFactory(user=member)
    _cart(member)

    priced = cart_view(owner=CartOwner(user=member), options={"coupon": "SOLO15"}).priced

    assert priced.discount_total == D("20.00")
    assert [d.source for d in priced.discounts] == ["promotion"]
    (row,) = _rows(priced, "coupon")
    assert row["status"] == "not_chosen" and row["reason"] == "promotions_better"
    assert "20.00" in row["message"] and "15.00" in row["message"]
    assert priced.rejections == []

    order = order_place(user=member, address_id=address.pk, options={"coupon": "SOLO15"})

    assert order.discount_total == D("20.00")
    coupon.refresh_from_db()
    assert coupon.used_count == 0 and not CouponRedemption.objects.exists()


def test_the_coupon_wins_when_it_saves_more_and_the_promotions_are_left_out():
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    _coupon("SOLO30", "30.00")
    member = MemberFactory()
    address = AddressFactory(user=member)
    _cart(member)

    priced = cart_view(owner=CartOwner(user=member), options={"coupon": "SOLO30"}).priced

    assert priced.discount_total == D("30.00")
    assert [d.source for d in priced.discounts] == ["coupon"]
    (promo,) = _rows(priced, "promotion")
    assert promo["status"] == "not_chosen" and promo["reason"] == "coupon_not_combinable"
    (coupon_row,) = _rows(priced, "coupon")
    assert coupon_row["status"] == "applied" and coupon_row["reason"] == "coupon_better"
    assert not [h for h in priced.hints if h.code == "promotion_threshold"]

    order = order_place(user=member, address_id=address.pk, options={"coupon": "SOLO30"})

    assert order.discount_total == D("30.00")
    assert list(OrderDiscount.objects.filter(order=order).values_list("source", flat=True)) == [
        "coupon"
    ]
    assert Promotion.objects.get(code="m200").uses == 0


def test_on_a_tie_the_promotions_are_kept_and_the_coupon_stays_in_the_wallet():
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    _coupon("SAME20", "20.00")
    member = MemberFactory()
    _cart(member)

    priced = cart_view(owner=CartOwner(user=member), options={"coupon": "SAME20"}).priced

    assert [d.source for d in priced.discounts] == ["promotion"]


def test_without_a_promotion_a_non_combinable_coupon_applies_normally():
    _coupon("ALONE", "5.00")
    member = MemberFactory()
    _cart(member, "50.00")

    priced = cart_view(owner=CartOwner(user=member), options={"coupon": "ALONE"}).priced

    assert priced.discount_total == D("5.00")
    assert _rows(priced, "coupon")[0].get("reason", "") == ""


def test_a_refused_non_combinable_coupon_is_still_reported_and_promotions_apply():
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    _coupon("BIGMIN", "50.00", min_spend=D("1000.00"))
    member = MemberFactory()
    _cart(member)

    priced = cart_view(owner=CartOwner(user=member), options={"coupon": "BIGMIN"}).priced

    assert priced.discount_total == D("20.00")
    assert [r.code for r in priced.rejections] == ["coupon_below_min_spend"]


def test_get_cart_api_explains_the_choice(api_client):
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    _coupon("SOLO30", "30.00")
    member = MemberFactory()
    _cart(member)
    token, _created = Token.objects.get_or_create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    body = api_client.get("/api/v1/cart/?coupon_code=solo30").json()

    rows = {(r["source"], r["code"]): r for r in body["explanation"]}
    assert rows[("coupon", "SOLO30")]["reason"] == "coupon_better"
    assert rows[("promotion", "m200")]["status"] == "not_chosen"


def test_the_cart_page_says_why(client):
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    _coupon("SOLO15", "15.00")
    member = MemberFactory()
    _cart(member)
    client.force_login(member)
    client.post(reverse("orders:cart_offers"), {"coupon": "SOLO15", "action": "apply"})

    html = client.get(reverse("orders:cart")).content.decode()

    assert 'data-reason="promotions_better"' in html


# --- valid for N days -----------------------------------------------------------------------


def test_issued_and_claimed_coupons_expire_n_days_later():
    campaign = CouponCampaignFactory(valid_days=7, public_code="WEEK", per_member_limit=5)
    member = MemberFactory()
    before = timezone.now()

    services.coupons_issue(campaign_id=campaign.pk, user_ids=[member.pk])
    claimed = services.coupon_claim(user=member, code="WEEK")

    issued = Coupon.objects.get(campaign=campaign, source="issued")
    for coupon in (issued, claimed):
        assert before + timedelta(days=7) <= coupon.expires_at <= timezone.now() + timedelta(days=7)


def test_a_generated_code_counts_from_its_claim():
    campaign = CouponCampaignFactory(valid_days=3)
    services.coupons_generate(campaign_id=campaign.pk, count=1)
    coupon = Coupon.objects.get(campaign=campaign)
    assert coupon.expires_at is None

    claimed = services.coupon_claim(user=MemberFactory(), code=coupon.code)

    assert claimed.expires_at is not None
    coupon.refresh_from_db()
    assert coupon.expires_at == claimed.expires_at


def test_an_expired_wallet_coupon_is_refused_and_shown_expired(api_client):
    campaign = CouponCampaignFactory(valid_days=2, ends_at=timezone.now() + timedelta(days=30))
    member = MemberFactory()
    coupon = CouponFactory(
        campaign=campaign, owner=member, code="OLD", expires_at=timezone.now() - timedelta(1)
    )
    _cart(member, "50.00")

    with pytest.raises(CouponExpired):
        services.coupon_resolve(code="OLD", user=member)
    priced = cart_view(owner=CartOwner(user=member), options={"coupon": "OLD"}).priced
    assert [r.code for r in priced.rejections] == ["coupon_expired"]
    assert wallet(user=member)[0].status == "expired"
    token, _created = Token.objects.get_or_create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    (row,) = api_client.get("/api/v1/me/coupons/").json()
    assert row["status"] == "expired"
    assert row["expires_at"].startswith(str(timezone.localtime(coupon.expires_at).date())[:4])


def test_wallet_expiry_is_the_earlier_of_the_coupon_and_the_campaign():
    ends = timezone.now() + timedelta(days=1)
    campaign = CouponCampaignFactory(valid_days=30, ends_at=ends)
    member = MemberFactory()
    services.coupons_issue(campaign_id=campaign.pk, user_ids=[member.pk])

    (row,) = wallet(user=member)

    assert row.coupon.valid_until == ends


def test_a_public_code_skips_the_members_expired_coupon():
    campaign = CouponCampaignFactory(public_code="AGAIN", per_member_limit=3, valid_days=5)
    member = MemberFactory()
    CouponFactory(
        campaign=campaign, owner=member, code="STALE", expires_at=timezone.now() - timedelta(1)
    )

    resolved = services.coupon_resolve(code="AGAIN", user=member)

    assert resolved.coupon is None  # a new one is claimed on use


def test_another_members_coupon_is_not_yours_even_before_expiry():
    from promotions.exceptions import CouponNotYours

    campaign = CouponCampaignFactory(valid_days=5)
    CouponFactory(campaign=campaign, owner=MemberFactory(), code="THEIRS")

    with pytest.raises(CouponNotYours):
        services.coupon_resolve(code="THEIRS", user=MemberFactory())


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _campaign_form(**over):
    data = {
        "name": "Solo",
        "kind": "fixed",
        "value": "10.00",
        "min_spend": "0",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "is_active": "on",
        "per_member_limit": "1",
        "valid_days": "7",
        "return_on_cancel": "on",
        # no audience codes: a multiple choice with nothing selected is not sent at all
    }
    data.update(over)
    return data


def test_admin_saves_both_options(staff):
    response = staff.post(reverse("admin:promotions_couponcampaign_add"), _campaign_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = CouponCampaign.objects.get(name="Solo")
    assert campaign.valid_days == 7 and campaign.combinable_with_promotions is False


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "1.5"])
def test_admin_refuses_bad_valid_days(staff, bad):
    response = staff.post(
        reverse("admin:promotions_couponcampaign_add"), _campaign_form(valid_days=bad)
    )

    assert response.status_code == 200
    assert "valid_days" in response.context["adminform"].form.errors
    assert not CouponCampaign.objects.exists()


def test_a_coupon_from_the_points_exchange_expires_n_days_later():
    from tests.factories import ExchangeItemFactory, points_grant

    item = ExchangeItemFactory(campaign=CouponCampaignFactory(valid_days=10), points_cost=100)
    member = MemberFactory()
    points_grant(member, 100)

    exchange = services.points_exchange(user=member, item_id=item.pk)

    delta = exchange.coupon.expires_at - exchange.coupon.claimed_at
    assert delta == timedelta(days=10)
