"""Cart API: GET cart/, POST cart/items/, PATCH / DELETE cart/items/{id}/."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from browsing.models import Event
from orders import cart as carts
from orders.cart import CartOwner
from orders.models import CartItem
from tests.factories import MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def api(api_client, member):
    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def _item(member, product=None, quantity=1):
    product = product or ProductFactory(stock=50)
    return carts.cart_add_item(
        owner=CartOwner(user=member), product_id=product.pk, quantity=quantity
    )


def _assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    if code:
        assert body["code"] == code
    return body


@pytest.mark.parametrize(
    "method,path",
    [("get", CART), ("post", ITEMS), ("patch", ITEMS + "1/"), ("delete", ITEMS + "1/")],
)
def test_endpoints_need_a_member(api_client, method, path):
    _assert_error(getattr(api_client, method)(path, {}, format="json"), 401)


# --- GET cart/ -----------------------------------------------------------------------------------


def test_an_empty_cart(api):
    body = api.get(CART).json()

    assert body["items"] == []
    assert (body["subtotal"], body["shipping_fee"], body["total"]) == ("0.00", "0.00", "0.00")
    assert body["can_checkout"] is False


def test_cart_lines_and_summary_with_money_as_strings(api, member, settings):
    settings.SHIPPING_FEE = "10.00"
    settings.FREE_SHIPPING_THRESHOLD = "99.00"
    product = ProductFactory(price=Decimal("12.50"), stock=10, sku="CUP-1")
    item = _item(member, product, quantity=3)

    body = api.get(CART).json()

    line = body["items"][0]
    assert line["id"] == item.pk
    assert line["product"]["sku"] == "CUP-1" and line["product"]["price"] == "12.50"
    assert (line["quantity"], line["unit_price"], line["line_total"]) == (3, "12.50", "37.50")
    assert line["problem"] is None and line["in_total"] is True
    assert (body["subtotal"], body["shipping_fee"], body["total"]) == ("37.50", "10.00", "47.50")
    assert body["hints"] == [
        {"code": "free_shipping", "message": body["hints"][0]["message"], "amount": "61.50"}
    ]
    assert body["item_count"] == 3 and body["can_checkout"] is True


def test_cart_flags_a_line_that_ran_out(api, member):
    product = ProductFactory(stock=5)
    _item(member, product)
    product.stock = 0
    product.save()

    body = api.get(CART).json()

    assert body["items"][0]["problem"] == "out_of_stock"
    assert body["items"][0]["in_total"] is False and body["items"][0]["payable"] is None
    assert body["can_checkout"] is False


def test_get_cart_query_count_does_not_grow_with_lines(api, member, django_assert_max_num_queries):
    _item(member)
    api.get(CART)  # warm the cached live promotions
    with CaptureQueriesContext(connection) as one:
        api.get(CART)
    one_line = len(one.captured_queries)
    for _ in range(19):
        _item(member)
    api.get(CART)  # new categories rebuild the cached live promotions

    with django_assert_max_num_queries(one_line):
        response = api.get(CART)

    assert len(response.json()["items"]) == 20
    # token, user, cart lines, points balance (live promotions come from the cache), and the
    # member's audience for promotions and tier privileges (membership: the tier, read once per
    # request and shared with pricing; profile + score in one query; staff tags): none per line
    assert one_line <= 7


def test_another_members_cart_is_not_shown(api):
    _item(MemberFactory())

    assert api.get(CART).json()["items"] == []


# --- POST cart/items/ ----------------------------------------------------------------------------


def test_adding_returns_the_cart(api, member):
    product = ProductFactory(stock=10)

    response = api.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json")

    assert response.status_code == 201
    assert response.json()["items"][0]["quantity"] == 2
    assert Event.objects.get(event_type="cart_add").source == "api"


def test_quantity_defaults_to_one(api):
    response = api.post(ITEMS, {"product": ProductFactory().pk}, format="json")

    assert response.json()["items"][0]["quantity"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"quantity": 1},
        {"product": None},
        {"product": "abc"},
        {"product": 0},
        {"product": -1},
        {"product": 10**30},
        {"product": 1.5},
        {"product": [1]},
        {"product": "PID", "quantity": 0},
        {"product": "PID", "quantity": -3},
        {"product": "PID", "quantity": 100},
        {"product": "PID", "quantity": 10**30},
        {"product": "PID", "quantity": "many"},
        {"product": "PID", "quantity": 2.5},
        {"product": "PID", "quantity": True},
        {"product": "PID", "quantity": "\x00"},
    ],
)
def test_bad_add_input_is_a_400_validation_error(api, body):
    product = ProductFactory(stock=500)
    body = {k: (product.pk if v == "PID" else v) for k, v in body.items()}

    _assert_error(api.post(ITEMS, body, format="json"), 400, "validation_error")
    assert not CartItem.objects.exists()


def test_malformed_json_is_a_400(api):
    response = api.generic("POST", ITEMS, '{"product": ', "application/json")

    _assert_error(response, 400, "parse_error")


def test_an_unknown_product_is_a_400(api):
    _assert_error(api.post(ITEMS, {"product": 999999}, format="json"), 400, "product_unavailable")


def test_an_inactive_product_is_a_400(api):
    product = ProductFactory(is_active=False)

    _assert_error(
        api.post(ITEMS, {"product": product.pk}, format="json"), 400, "product_unavailable"
    )


def test_more_than_the_stock_is_a_409_with_the_stock(api):
    product = ProductFactory(stock=2, sku="RARE")

    body = _assert_error(
        api.post(ITEMS, {"product": product.pk, "quantity": 3}, format="json"), 409, "out_of_stock"
    )

    assert body["detail"]["items"][0] == {
        "product": product.pk,
        "sku": "RARE",
        "requested": 3,
        "available": 2,
    }


def test_growing_a_line_past_the_limit_is_a_400(api, member, settings):
    settings.CART_MAX_QUANTITY = 99
    product = ProductFactory(stock=500)
    _item(member, product, quantity=98)

    _assert_error(
        api.post(ITEMS, {"product": product.pk, "quantity": 2}, format="json"),
        400,
        "invalid_quantity",
    )


# --- PATCH / DELETE cart/items/{id}/ -------------------------------------------------------------


def test_patch_sets_the_quantity(api, member):
    item = _item(member)

    response = api.patch(f"{ITEMS}{item.pk}/", {"quantity": 5}, format="json")

    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 5


@pytest.mark.parametrize("body", [{}, {"quantity": 0}, {"quantity": "x"}, {"quantity": 10**30}])
def test_bad_patch_input_is_a_400(api, member, body):
    item = _item(member)

    _assert_error(api.patch(f"{ITEMS}{item.pk}/", body, format="json"), 400, "validation_error")
    assert CartItem.objects.get().quantity == 1


def test_patch_past_the_stock_is_a_409(api, member):
    item = _item(member, ProductFactory(stock=3))

    _assert_error(api.patch(f"{ITEMS}{item.pk}/", {"quantity": 4}, format="json"), 409)


def test_delete_removes_the_line(api, member):
    item = _item(member)

    response = api.delete(f"{ITEMS}{item.pk}/")

    assert response.status_code == 204
    assert not CartItem.objects.exists()


def test_another_members_line_is_404_for_patch_and_delete(api):
    theirs = _item(MemberFactory())

    _assert_error(
        api.patch(f"{ITEMS}{theirs.pk}/", {"quantity": 2}, format="json"),
        404,
        "cart_item_not_found",
    )
    _assert_error(api.delete(f"{ITEMS}{theirs.pk}/"), 404, "cart_item_not_found")
    assert CartItem.objects.get().quantity == 1


@pytest.mark.parametrize("path", [ITEMS + "999999/", ITEMS + "99999999999999999999999/"])
def test_unknown_line_ids_are_404(api, path):
    _assert_error(api.delete(path), 404)
