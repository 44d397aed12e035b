"""Loyalty API and the cart/checkout API with promotions, coupons and points."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from orders.cart import CartOwner, cart_add_item
from orders.models import Order
from promotions.models import Coupon, PointsExchange
from tests.factories import (
    AddressFactory,
    CouponCampaignFactory,
    CouponFactory,
    ExchangeItemFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
    points_grant,
)

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def api(api_client, member):
    token, _created = Token.objects.get_or_create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def _cart(member, price="165.00", quantity=1):
    product = ProductFactory(price=D(price), stock=50)
    cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=quantity)
    return product


# --- cart and checkout ------------------------------------------------------------------------


def test_get_cart_shows_the_next_threshold_and_the_explanation(api, member):
    PromotionFactory(code="m200", name="200 off 20", tiers=[["200.00", "20.00"]])
    _cart(member)

    body = api.get("/api/v1/cart/").json()

    (hint,) = [h for h in body["hints"] if h["code"] == "promotion_threshold"]
    assert hint["amount"] == "35.00"
    assert "35.00" in hint["message"] and "20.00" in hint["message"]
    row = next(r for r in body["explanation"] if r["source"] == "promotion")
    assert (row["code"], row["status"], row["reason"]) == (
        "m200",
        "not_eligible",
        "below_min_spend",
    )
    points = next(r for r in body["explanation"] if r["source"] == "points")
    assert points["balance"] == 0


def test_get_cart_previews_a_coupon_and_points(api, member):
    PromotionFactory(code="m200", tiers=[["200.00", "20.00"]])
    CouponFactory(code="TEN")
    points_grant(member, 1000)
    _cart(member, "210.00")

    body = api.get("/api/v1/cart/?coupon_code=ten&points=500").json()

    sources = {d["source"]: d["amount"] for d in body["discounts"]}
    assert sources == {"promotion": "20.00", "coupon": "10.00", "points": "5.00"}
    assert body["total"] == "175.00"
    assert (body["coupon_code"], body["points"], body["rejections"]) == ("TEN", 500, [])


@pytest.mark.parametrize(
    "query,code",
    [
        ("coupon_code=NOPE", "coupon_unknown"),
        ("points=99999", "points_insufficient"),
    ],
)
def test_get_cart_lists_what_checkout_would_refuse(api, member, query, code):
    _cart(member)
    body = api.get(f"/api/v1/cart/?{query}").json()
    assert [r["code"] for r in body["rejections"]] == [code]
    assert body["discount_total"] == "0.00"


def test_get_cart_with_bad_points_is_a_400(api, member):
    response = api.get("/api/v1/cart/?points=-3")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "setup,status,code",
    [
        ("unknown", 400, "coupon_unknown"),
        ("expired", 400, "coupon_expired"),
        ("not_yet_valid", 400, "coupon_not_yet_valid"),
        ("used", 409, "coupon_used"),
        ("min_spend", 400, "coupon_below_min_spend"),
        ("points_balance", 409, "points_insufficient"),
        ("points_share", 400, "points_over_limit"),
    ],
)
def test_checkout_refuses_bad_coupons_and_points_with_specific_codes(
    api, member, setup, status, code
):
    now = timezone.now()
    address = AddressFactory(user=member)
    _cart(member, "100.00")
    points_grant(member, 8000)
    campaign = CouponCampaignFactory()
    if setup == "expired":
        campaign.ends_at = now - timedelta(hours=1)
    elif setup == "not_yet_valid":
        campaign.starts_at = now + timedelta(days=1)
    elif setup == "min_spend":
        campaign.min_spend = D("100.01")
    campaign.save()
    CouponFactory(campaign=campaign, code="C1", used_count=1 if setup == "used" else 0)
    body = {"address_id": address.pk}
    if setup.startswith("points"):
        body["points"] = 9000 if setup == "points_balance" else 5001
    else:
        body["coupon_code"] = "NOPE" if setup == "unknown" else "C1"

    response = api.post("/api/v1/checkout/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert Order.objects.count() == 0


def test_checkout_with_coupon_and_points_answers_the_discounted_order(api, member):
    address = AddressFactory(user=member)
    CouponFactory(code="TEN")
    points_grant(member, 1000)
    _cart(member, "100.00")

    response = api.post(
        "/api/v1/checkout/",
        {"address_id": address.pk, "coupon_code": "ten", "points": 1000},
        format="json",
        HTTP_IDEMPOTENCY_KEY="abc",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["discount_total"] == "20.00"
    assert body["total"] == "90.00"  # 80.00 + 10.00 shipping (below 99.00)
    again = api.post(
        "/api/v1/checkout/",
        {"address_id": address.pk, "coupon_code": "ten", "points": 1000},
        format="json",
        HTTP_IDEMPOTENCY_KEY="abc",
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Coupon.objects.get(code="TEN").used_count == 1


# --- points ------------------------------------------------------------------------------------


def test_me_points_shows_balance_expiring_and_history(api, member):
    lot = points_grant(member, 1200, reason="Welcome")
    lot.expires_at = timezone.now() + timedelta(days=5)
    lot.save(update_fields=["expires_at"])

    body = api.get("/api/v1/me/points/").json()

    assert body["balance"] == 1200
    assert body["value"] == "12.00"
    assert body["expiring_soon"] == 1200
    assert body["recent"][0]["reason"] == "Welcome"
    assert body["recent"][0]["amount"] == 1200


def test_me_points_history_is_paginated_and_only_mine(api, member, django_assert_max_num_queries):
    other = MemberFactory()
    points_grant(other, 999, reason="not yours")
    points_grant(member, 10)
    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/me/points/history/")
    for _i in range(15):
        points_grant(member, 10)

    with django_assert_max_num_queries(len(one.captured_queries)):
        body = api.get("/api/v1/me/points/history/").json()

    assert body["count"] == 16
    assert all(row["reason"] != "not yours" for row in body["results"])


def test_points_api_needs_a_login(api_client):
    assert api_client.get("/api/v1/me/points/").status_code == 401
    assert api_client.get("/api/v1/me/coupons/").status_code == 401
    assert api_client.post("/api/v1/coupons/claim/", {"code": "X"}).status_code == 401


# --- coupons ------------------------------------------------------------------------------------


def test_claim_then_wallet_lists_only_my_coupons(api, member, django_assert_max_num_queries):
    CouponCampaignFactory(public_code="WELCOME10", name="Welcome")
    CouponFactory(owner=MemberFactory(), code="SOMEONEELSE")

    response = api.post("/api/v1/coupons/claim/", {"code": "welcome10"}, format="json")

    assert response.status_code == 201
    claimed = response.json()
    assert claimed["campaign"]["name"] == "Welcome"
    with CaptureQueriesContext(connection) as one:
        wallet = api.get("/api/v1/me/coupons/").json()
    assert [c["code"] for c in wallet] == [claimed["code"]]
    assert wallet[0]["status"] == "usable"
    for i in range(10):
        CouponFactory(owner=member, code=f"MINE{i}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(api.get("/api/v1/me/coupons/").json()) == 11


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"code": "NOPE"}, 400, "coupon_unknown"),
        ({"code": ""}, 400, "validation_error"),
        ({}, 400, "validation_error"),
        ({"code": "x" * 200}, 400, "validation_error"),
        ({"code": "TWICE"}, 409, "coupon_claim_limit"),
    ],
)
def test_claim_bad_input_is_a_clear_4xx(api, member, body, status, code):
    CouponCampaignFactory(public_code="TWICE", per_member_limit=1)
    api.post("/api/v1/coupons/claim/", {"code": "TWICE"}, format="json")
    response = api.post("/api/v1/coupons/claim/", body, format="json")
    assert response.status_code == status
    assert response.json()["code"] == code


def test_wallet_status_filter(api, member):
    CouponFactory(owner=member, code="USED1", used_count=1)
    CouponFactory(owner=member, code="FRESH1")
    assert [c["code"] for c in api.get("/api/v1/me/coupons/?status=used").json()] == ["USED1"]
    assert api.get("/api/v1/me/coupons/?status=weird").json()["code"] == "invalid_status"


# --- exchange ------------------------------------------------------------------------------------


def test_exchange_a_coupon_with_an_idempotency_key(api, member):
    item = ExchangeItemFactory(points_cost=500, stock=3)
    points_grant(member, 1200)

    first = api.post(
        "/api/v1/points/exchange/", {"item": item.pk}, format="json", HTTP_IDEMPOTENCY_KEY="x1"
    )
    again = api.post(
        "/api/v1/points/exchange/", {"item": item.pk}, format="json", HTTP_IDEMPOTENCY_KEY="x1"
    )

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["coupon_code"]
    assert api.get("/api/v1/me/points/").json()["balance"] == 700
    assert PointsExchange.objects.count() == 1


def test_exchange_a_gift_needs_an_address_then_waits_for_shipping(api, member):
    gift = ExchangeItemFactory(
        kind="gift", campaign=None, product=ProductFactory(), points_cost=100
    )
    points_grant(member, 500)

    refused = api.post("/api/v1/points/exchange/", {"item": gift.pk}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "address_required")

    AddressFactory(user=member, is_default=True, city="Suzhou")
    done = api.post("/api/v1/points/exchange/", {"item": gift.pk}, format="json")
    assert done.status_code == 201
    assert done.json()["status"] == "to_ship" and "Suzhou" in done.json()["ship_to"]


@pytest.mark.parametrize(
    "setup,status,code",
    [
        ("unknown", 404, "exchange_item_not_found"),
        ("inactive", 404, "exchange_item_not_found"),
        ("sold_out", 409, "exchange_sold_out"),
        ("poor", 409, "points_insufficient"),
        ("bad_key", 400, "invalid_idempotency_key"),
        ("bad_body", 400, "validation_error"),
    ],
)
def test_exchange_refusals(api, member, setup, status, code):
    item = ExchangeItemFactory(
        points_cost=500, stock=0 if setup == "sold_out" else 5, is_active=setup != "inactive"
    )
    points_grant(member, 100 if setup == "poor" else 1000)
    body = {"item": 999999 if setup == "unknown" else item.pk}
    if setup == "bad_body":
        body = {"item": "abc"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "k" * 65} if setup == "bad_key" else {}

    response = api.post("/api/v1/points/exchange/", body, format="json", **headers)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert api.get("/api/v1/me/points/").json()["balance"] == (100 if setup == "poor" else 1000)


def test_exchange_catalogue_lists_active_items(api):
    ExchangeItemFactory(name="Tea coupon")
    ExchangeItemFactory(name="Hidden", is_active=False)
    names = [i["name"] for i in api.get("/api/v1/points/exchange/items/").json()]
    assert names == ["Tea coupon"]


@pytest.mark.parametrize(
    "campaign",
    [
        {"ends_at": "past"},
        {"is_active": False},
    ],
)
def test_points_are_not_exchanged_for_a_coupon_of_an_ended_campaign(api, member, campaign):
    if campaign.get("ends_at") == "past":
        campaign = {"ends_at": timezone.now() - timedelta(minutes=1)}
    item = ExchangeItemFactory(campaign=CouponCampaignFactory(**campaign), points_cost=300)
    points_grant(member, 1000)

    assert api.get("/api/v1/points/exchange/items/").json() == []
    response = api.post("/api/v1/points/exchange/", {"item": item.pk}, format="json")

    assert (response.status_code, response.json()["code"]) == (404, "exchange_item_not_found")
    assert api.get("/api/v1/me/points/").json()["balance"] == 1000
    assert not Coupon.objects.filter(owner=member).exists()
    item.refresh_from_db()
    assert item.stock == 10
