"""Orders API: GET orders/ (filters, search, pages), GET orders/{id}/, cancel, confirm."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from orders import lifecycle
from orders.models import Order, Payment, Refund
from tests.factories import MemberFactory, ProductFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status
ORDERS = "/api/v1/orders/"


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def api(api_client, member):
    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def _order(user, status=S.PENDING_PAYMENT, names=("Tea kettle",), placed_at=None, **kw):
    products = [ProductFactory(name=name, stock=5) for name in names]
    order = order_with_items(user=user, products=products, status=status, **kw)
    if placed_at:
        Order.objects.filter(pk=order.pk).update(
            placed_at=timezone.make_aware(datetime.fromisoformat(placed_at))
        )
    return order


def _ids(response):
    return [row["id"] for row in response.json()["results"]]


def _assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    if code:
        assert body["code"] == code
    return body


# --- access and isolation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", ORDERS),
        ("get", ORDERS + "1/"),
        ("post", ORDERS + "1/cancel/"),
        ("post", ORDERS + "1/confirm/"),
    ],
)
def test_anonymous_is_401(api_client, method, path):
    _assert_error(getattr(api_client, method)(path), 401)


def test_list_has_only_my_orders(api, member):
    mine = _order(member)
    _order(MemberFactory())

    response = api.get(ORDERS)

    assert response.status_code == 200
    assert _ids(response) == [mine.pk]
    assert response.json()["count"] == 1


@pytest.mark.parametrize("suffix,method", [("", "get"), ("cancel/", "post"), ("confirm/", "post")])
def test_another_members_order_is_404(api, suffix, method):
    theirs = _order(MemberFactory(), status=S.DELIVERED)

    response = getattr(api, method)(f"{ORDERS}{theirs.pk}/{suffix}")

    _assert_error(response, 404, "order_not_found")
    assert Order.objects.get(pk=theirs.pk).status == S.DELIVERED


@pytest.mark.parametrize("path", ["999999/", "9223372036854775808/", "abc/", "0/", "-1/"])
def test_unknown_or_malformed_ids_are_404_json(api, path):
    response = api.get(ORDERS + path)

    _assert_error(response, 404)


# --- list ----------------------------------------------------------------------------------------


def test_list_row_shape_with_money_as_strings(api, member):
    product = ProductFactory(name="Kettle", sku="KT-1", price=Decimal("59.90"))
    order = order_with_items(
        user=member, products=[product], quantities=[2], shipping_fee=Decimal("10.00")
    )

    row = api.get(ORDERS).json()["results"][0]

    assert row["number"] == order.number
    assert row["status"] == "pending_payment"
    assert row["status_label"] == "Pending payment"
    assert (row["subtotal"], row["shipping_fee"], row["total"]) == ("119.80", "10.00", "129.80")
    assert row["refunded_total"] == "0.00"
    assert row["item_count"] == 2
    assert row["items"][0]["product_name"] == "Kettle"
    assert row["items"][0]["unit_price"] == "59.90"
    assert row["items"][0]["paid_amount"] == "119.80"


def test_filters_status_dates_and_search(api, member):
    march = _order(member, status=S.PAID, names=("Green tea",), placed_at="2024-03-10T09:00")
    _order(member, status=S.PAID, names=("Coffee",), placed_at="2024-04-10T09:00")
    _order(member, status=S.CANCELLED, names=("Green tea",), placed_at="2024-03-11T09:00")

    response = api.get(
        ORDERS, {"status": "paid", "date_from": "2024-03-01", "date_to": "2024-03-31", "q": "tea"}
    )

    assert _ids(response) == [march.pk]


def test_search_by_sku_and_number(api, member):
    product = ProductFactory(sku="ZX-99")
    by_sku = order_with_items(user=member, products=[product])
    by_number = _order(member, number="2024ABC777")

    assert _ids(api.get(ORDERS, {"q": "zx-9"})) == [by_sku.pk]
    assert _ids(api.get(ORDERS, {"q": "ABC77"})) == [by_number.pk]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "bogus"}, "status"),
        ({"date_from": "2024-02-30"}, "date_from"),
        ({"date_to": "not-a-date"}, "date_to"),
        ({"date_from": "2024-05-02", "date_to": "2024-05-01"}, "date_to"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filters_are_400_with_the_field(api, member, params, field):
    _order(member)

    body = _assert_error(api.get(ORDERS, params), 400, "validation_error")

    assert field in body["detail"]


@pytest.mark.parametrize("page", ["99999999999999999999999", "2", "abc"])
def test_page_past_the_end_is_404_json(api, member, page):
    _order(member)

    _assert_error(api.get(ORDERS, {"page": page}), 404)


def test_page_size_is_capped(api, member):
    for _ in range(3):
        _order(member)

    response = api.get(ORDERS, {"page_size": 100000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_nul_in_search_is_400_json(api, member):
    _order(member)

    _assert_error(api.get(ORDERS, {"q": "kettle\x00"}), 400, "validation_error")


@pytest.mark.parametrize("params", [{"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}])
def test_extreme_dates_never_fail(api, member, params):
    order = _order(member)

    response = api.get(ORDERS, params)

    assert response.status_code == 200
    assert _ids(response) == [order.pk]


@pytest.mark.parametrize("orders", [1, 15])
def test_list_queries_do_not_grow_with_orders(api, member, orders, django_assert_max_num_queries):
    for _ in range(orders):
        _order(member, names=("A", "B", "C"))

    # token, count, orders page, their lines
    with django_assert_max_num_queries(6):  # + discounts and points (promotions)
        response = api.get(ORDERS)

    assert len(response.json()["results"]) == orders
    assert all(len(row["items"]) == 3 for row in response.json()["results"])


# --- detail --------------------------------------------------------------------------------------


def test_detail_has_items_address_timeline_refunds_and_actions(api, member):
    order = _order(member, status=S.PENDING_PAYMENT, names=("Cup", "Plate"))
    staff = UserFactory(is_staff=True)
    lifecycle.order_transition(order_id=order.pk, to_status=S.PAID, by=member)
    lifecycle.order_transition(order_id=order.pk, to_status=S.SHIPPED, by=staff, note="SF")
    Refund.objects.create(order=order, amount=Decimal("1.00"), reason="dent")

    body = api.get(f"{ORDERS}{order.pk}/").json()

    assert body["number"] == order.number
    assert [i["product_name"] for i in body["items"]] == ["Cup", "Plate"]
    assert body["items"][0]["review_id"] is None
    assert body["shipping_address"]["line1"] == "1 Wensan Road"
    assert [
        (e["from_status"], e["to_status"], e["actor"], e["note"]) for e in body["timeline"]
    ] == [
        ("pending_payment", "paid", "member", ""),
        ("paid", "shipped", "staff", "SF"),
    ]
    assert body["refunds"][0]["amount"] == "1.00"
    assert body["actions"] == {"can_pay": False, "can_cancel": False, "can_confirm": False}
    assert staff.email not in str(body)


@pytest.mark.parametrize("lines", [1, 10])
def test_detail_queries_do_not_grow_with_lines(api, member, lines, django_assert_max_num_queries):
    order = _order(member, status=S.DELIVERED, names=[f"P{i}" for i in range(lines)])

    # token, order, lines (+ products, reviews), changes, payments, refunds, refund lines
    with django_assert_max_num_queries(9):  # + discounts and points (promotions)
        response = api.get(f"{ORDERS}{order.pk}/")

    assert len(response.json()["items"]) == lines


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_pending_order_returns_it_cancelled(api, member):
    order = _order(member)
    product = order.items.get().product

    response = api.post(f"{ORDERS}{order.pk}/cancel/", {"note": "too slow"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["timeline"][-1]["note"] == "too slow"
    product.refresh_from_db()
    assert product.stock == 6


def test_cancel_paid_order_refunds_it(api, member):
    order = _order(member, status=S.PAID, shipping_fee=Decimal("10.00"))
    Payment.objects.create(
        order=order, provider="simulated", amount=order.total, status="succeeded"
    )

    body = api.post(f"{ORDERS}{order.pk}/cancel/", format="json").json()

    assert body["status"] == "cancelled"
    assert body["refunded_total"] == body["total"] == "109.00"
    assert body["refunds"][0]["amount"] == "109.00"


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.COMPLETED, S.CANCELLED, S.REFUNDED])
def test_cancel_in_the_wrong_state_is_409(api, member, status):
    order = _order(member, status=status)

    body = _assert_error(api.post(f"{ORDERS}{order.pk}/cancel/", format="json"), 409)

    assert body["code"] == "transition_not_allowed"
    assert body["detail"]["status"] == status
    assert Order.objects.get(pk=order.pk).status == status


@pytest.mark.parametrize(
    "payload,content_type",
    [
        ({"note": "x" * 256}, "json"),
        ({"note": ["a", "b"]}, "json"),
        ({"note": {"a": 1}}, "json"),
    ],
)
def test_cancel_bad_body_is_400(api, member, payload, content_type):
    order = _order(member)

    _assert_error(api.post(f"{ORDERS}{order.pk}/cancel/", payload, format=content_type), 400)

    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT


def test_cancel_malformed_json_is_400(api, member):
    order = _order(member)

    response = api.generic("POST", f"{ORDERS}{order.pk}/cancel/", '{"note": ', "application/json")

    _assert_error(response, 400, "parse_error")


def test_cancel_with_a_number_as_note_is_accepted_as_text(api, member):
    order = _order(member)

    body = api.post(f"{ORDERS}{order.pk}/cancel/", {"note": 42}, format="json").json()

    assert body["timeline"][-1]["note"] == "42"


def test_get_on_cancel_is_405(api, member):
    order = _order(member)

    _assert_error(api.get(f"{ORDERS}{order.pk}/cancel/"), 405)


# --- confirm -------------------------------------------------------------------------------------


def test_confirm_delivered_order_completes_it(api, member):
    order = _order(member, status=S.DELIVERED)

    response = api.post(f"{ORDERS}{order.pk}/confirm/")

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["timeline"][-1]["actor"] == "member"


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAID, S.SHIPPED, S.COMPLETED])
def test_confirm_in_the_wrong_state_is_409(api, member, status):
    order = _order(member, status=status)

    _assert_error(api.post(f"{ORDERS}{order.pk}/confirm/"), 409, "transition_not_allowed")
