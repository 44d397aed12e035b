"""POST /api/v1/checkout/: the order, Idempotency-Key, and every refusal as JSON."""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token

from orders.cart import CartOwner, cart_add_item
from orders.models import CartItem, Order
from tests.factories import AddressFactory, MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/checkout/"


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def address(member):
    return AddressFactory(user=member, is_default=True)


@pytest.fixture
def api(api_client, member):
    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def _add(member, product, quantity=1):
    return cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=quantity)


def _assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    if code:
        assert body["code"] == code
    return body


def _checkout(api, address, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post(CHECKOUT, {"address_id": address.pk, **body}, format="json", **headers)


def test_checkout_returns_201_with_the_order(api, member, address, settings):
    settings.SHIPPING_FEE = "10.00"
    settings.FREE_SHIPPING_THRESHOLD = "99.00"
    _add(member, ProductFactory(price=Decimal("20.00"), sku="TEA", stock=5), 2)

    response = _checkout(api, address, note="leave at the door")

    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get()
    assert (body["id"], body["number"], body["status"]) == (
        order.pk,
        order.number,
        "pending_payment",
    )
    assert (body["subtotal"], body["shipping_fee"], body["total"]) == ("40.00", "10.00", "50.00")
    assert body["items"][0]["sku"] == "TEA" and body["items"][0]["unit_price"] == "20.00"
    assert body["note"] == "leave at the door"
    assert body["shipping_address"]["line1"] == address.line1
    assert order.source == "api"


def test_repeating_the_key_returns_200_with_the_same_order(api, member, address):
    product = ProductFactory(stock=5)
    _add(member, product, 2)
    first = _checkout(api, address, key="k-1")

    again = _checkout(api, address, key="k-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    product.refresh_from_db()
    assert product.stock == 3


def test_a_key_longer_than_64_characters_is_a_400(api, member, address):
    _add(member, ProductFactory())

    _assert_error(_checkout(api, address, key="k" * 65), 400, "invalid_idempotency_key")
    assert not Order.objects.exists()


def test_an_empty_cart_is_a_400(api, address):
    _assert_error(_checkout(api, address), 400, "cart_empty")


def test_another_members_address_is_a_404(api, member):
    _add(member, ProductFactory())
    theirs = AddressFactory(user=MemberFactory())

    _assert_error(_checkout(api, theirs), 404, "address_not_found")
    assert not Order.objects.exists() and CartItem.objects.exists()


def test_stock_that_changed_is_a_409_listing_the_lines(api, member, address):
    product = ProductFactory(stock=5, sku="LAST")
    _add(member, product, 3)
    product.stock = 1
    product.save()

    body = _assert_error(_checkout(api, address), 409, "out_of_stock")

    assert body["detail"]["items"][0]["sku"] == "LAST"
    assert (body["detail"]["items"][0]["requested"], body["detail"]["items"][0]["available"]) == (
        3,
        1,
    )


def test_an_inactive_product_is_a_400(api, member, address):
    product = ProductFactory()
    _add(member, product)
    product.is_active = False
    product.save()

    _assert_error(_checkout(api, address), 400, "product_unavailable")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"address_id": None},
        {"address_id": "home"},
        {"address_id": 0},
        {"address_id": -1},
        {"address_id": 10**30},
        {"address_id": "ADDR", "note": "x" * 256},
        {"address_id": "ADDR", "note": ["a"]},
    ],
)
def test_bad_checkout_input_is_a_400(api, member, address, body):
    _add(member, ProductFactory())
    body = {k: (address.pk if v == "ADDR" else v) for k, v in body.items()}

    _assert_error(api.post(CHECKOUT, body, format="json"), 400, "validation_error")
    assert not Order.objects.exists()


def test_checkout_needs_a_member(api_client):
    _assert_error(api_client.post(CHECKOUT, {"address_id": 1}, format="json"), 401)
