"""Hostile coupon codes, points and keys never cause a 500 (NUL characters matter on PostgreSQL)."""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import AddressFactory, ExchangeItemFactory, MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

HOSTILE = ["a\x00b", "\x00", "é" * 50, "💥", " ", "A" * 5000, "%00", "1e999"]


@pytest.fixture
def member():
    member = MemberFactory()
    from orders.cart import CartOwner, cart_add_item

    cart_add_item(owner=CartOwner(user=member), product_id=ProductFactory().pk, quantity=1)
    AddressFactory(user=member, is_default=True)
    return member


@pytest.fixture
def api(api_client, member):
    token, _created = Token.objects.get_or_create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_api_inputs_get_a_4xx_or_a_refusal(api, member, value):
    responses = [
        api.get("/api/v1/cart/", {"coupon_code": value, "points": value}),
        api.get("/api/v1/cart/", {"coupon_code": value}),
        api.post("/api/v1/coupons/claim/", {"code": value}, format="json"),
        api.post(
            "/api/v1/checkout/",
            {"address_id": member.addresses.first().pk, "coupon_code": value, "points": value},
            format="json",
        ),
        api.post(
            "/api/v1/checkout/",
            {"address_id": member.addresses.first().pk, "coupon_code": value},
            format="json",
        ),
        api.post(
            "/api/v1/points/exchange/",
            {"item": ExchangeItemFactory().pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY=value,
        ),
        api.get("/api/v1/me/coupons/", {"status": value}),
    ]
    for response in responses:
        assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_form_inputs_never_500(client, member, value):
    client.force_login(member)
    for url, data in [
        ("/cart/offers/", {"coupon": value, "points": value, "action": "apply"}),
        ("/cart/offers/", {"coupon": value, "action": value}),
        ("/account/coupons/claim/", {"code": value}),
        ("/account/points/exchange/", {"item": value, "idempotency_key": value}),
        ("/checkout/", {"address": "new", "coupon": value, "points": value, "action": "apply"}),
        ("/checkout/", {"address": value, "coupon": value, "idempotency_key": value}),
    ]:
        assert client.post(url, data).status_code < 500, url
    assert client.get("/cart/").status_code == 200
    assert client.get("/account/points/", {"page": value}).status_code == 200
