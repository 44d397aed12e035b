"""Member order pages: my orders (filters, search, pages), order detail, cancel, confirm receipt."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import lifecycle
from orders.models import Order, OrderStatusChange, Payment, Refund
from tests.factories import MemberFactory, ProductFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status
LIST = reverse("orders:order_list")


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def _order(user, status=S.PENDING_PAYMENT, names=("Tea kettle",), placed_at=None, **kw):
    products = [ProductFactory(name=name, stock=5) for name in names]
    order = order_with_items(user=user, products=products, status=status, **kw)
    if placed_at:
        Order.objects.filter(pk=order.pk).update(placed_at=placed_at)
        order.refresh_from_db()
    return order


def _numbers(response):
    return [row.order.number for row in response.context["rows"]]


def _day(text):
    return timezone.make_aware(datetime.fromisoformat(text))


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders:order_list", "orders:order_detail"])
def test_pages_send_visitors_to_login(client, member, name):
    order = _order(member)
    args = [order.number] if name == "orders:order_detail" else []

    response = client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_list_shows_only_my_orders(member_client, member):
    mine = _order(member)
    _order(MemberFactory())

    response = member_client.get(LIST)

    assert response.status_code == 200
    assert _numbers(response) == [mine.number]
    assert response.context["active_menu"] == "orders"


def test_another_members_order_is_404(member_client):
    theirs = _order(MemberFactory())

    assert member_client.get(theirs.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("action", ["orders:order_cancel", "orders:order_confirm"])
def test_actions_on_another_members_order_are_404_and_change_nothing(member_client, action):
    theirs = _order(MemberFactory(), status=S.DELIVERED)

    response = member_client.post(reverse(action, args=[theirs.number]))

    assert response.status_code == 404
    assert Order.objects.get(pk=theirs.pk).status == S.DELIVERED


@pytest.mark.parametrize("number", ["NOPE-0000", "9" * 40])
def test_unknown_order_number_is_404(member_client, number):
    assert member_client.get(f"/orders/{number}/").status_code == 404


def test_a_number_without_digits_is_not_an_order_page(member_client):
    assert member_client.get("/orders/reviews/").status_code == 404


# --- list: filters, search, pages --------------------------------------------------------------


def test_list_is_newest_first_with_first_items_total_and_status(member_client, member):
    older = _order(member, placed_at=_day("2024-01-01T10:00"))
    newer = _order(
        member,
        status=S.SHIPPED,
        names=("Cup", "Saucer", "Teapot", "Tray"),
        placed_at=_day("2024-02-01T10:00"),
    )

    response = member_client.get(LIST)

    assert _numbers(response) == [newer.number, older.number]
    first = response.context["rows"][0]
    assert [i.product_name for i in first.items] == ["Cup", "Saucer", "Teapot"]
    assert first.more_items == 1
    html = response.content.decode()
    assert "and 1 more item" in html
    assert "status-shipped" in html
    assert "¥396.00" in html


def test_filter_by_status(member_client, member):
    paid = _order(member, status=S.PAID)
    _order(member, status=S.CANCELLED)

    response = member_client.get(LIST, {"status": "paid"})

    assert _numbers(response) == [paid.number]


def test_filter_by_inclusive_date_range_in_shop_time(member_client, member):
    _order(member, placed_at=_day("2024-03-09T23:59"))
    first_day = _order(member, placed_at=_day("2024-03-10T00:00"))
    last_day = _order(member, placed_at=_day("2024-03-12T23:59"))
    _order(member, placed_at=_day("2024-03-13T00:00"))

    response = member_client.get(LIST, {"date_from": "2024-03-10", "date_to": "2024-03-12"})

    assert _numbers(response) == [last_day.number, first_day.number]


@pytest.mark.parametrize("q", ["kettle", "KETTLE", "SKU-KT"])
def test_search_matches_product_name_or_sku(member_client, member, q):
    product = ProductFactory(name="Electric Kettle", sku="SKU-KT-1")
    match = order_with_items(user=member, products=[product])
    _order(member, names=("Teapot",))

    response = member_client.get(LIST, {"q": q})

    assert _numbers(response) == [match.number]


def test_search_matches_order_number(member_client, member):
    match = _order(member, number="20240101ABCD1234")
    _order(member, number="20240101ZZZZ9999")

    response = member_client.get(LIST, {"q": "abcd12"})

    assert _numbers(response) == [match.number]


def test_search_with_two_matching_lines_lists_the_order_once(member_client, member):
    order = _order(member, names=("Green tea", "Black tea"))

    response = member_client.get(LIST, {"q": "tea"})

    assert _numbers(response) == [order.number]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "bogus"}, "status"),
        ({"date_from": "2024-13-45"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2024-05-02", "date_to": "2024-05-01"}, "date_to"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filters_are_reported_and_ignored(member_client, member, params, field):
    order = _order(member)

    response = member_client.get(LIST, params)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert _numbers(response) == [order.number]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "99999999999999999999999"},
        {"page": "abc"},
        {"page": "-1"},
        {"q": "\x00kettle"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
        {"date_from": "99999-01-01"},
    ],
)
def test_hostile_parameters_never_fail(member_client, member, params):
    _order(member)

    response = member_client.get(LIST, params)

    assert response.status_code == 200


def test_pages_of_ten(member_client, member):
    for _ in range(12):
        _order(member)

    first = member_client.get(LIST)
    second = member_client.get(LIST, {"page": 2, "status": "pending_payment"})

    assert len(first.context["rows"]) == 10
    assert len(second.context["rows"]) == 2
    assert "status=pending_payment&amp;page=1" in second.content.decode()


def test_empty_states(member_client, member):
    assert "You have no orders yet." in member_client.get(LIST).content.decode()
    _order(member)
    filtered = member_client.get(LIST, {"status": "refunded"})
    assert "No orders match these filters." in filtered.content.decode()


@pytest.mark.parametrize("orders", [1, 15])
def test_list_page_queries_do_not_grow_with_orders(
    member_client, member, orders, django_assert_max_num_queries
):
    for _ in range(orders):
        _order(member, names=("A", "B", "C"))

    # session, user, count, orders page, their lines; base page: department nav, cart count
    with django_assert_max_num_queries(7):
        response = member_client.get(LIST)

    assert len(response.context["rows"]) == min(orders, 10)


# --- detail -----------------------------------------------------------------------------------


def test_detail_shows_items_totals_address_and_timeline(member_client, member):
    product = ProductFactory(name="Electric Kettle", sku="KT-9", price=Decimal("120.00"))
    order = order_with_items(
        user=member, products=[product], quantities=[2], shipping_fee=Decimal("10.00")
    )
    staff = UserFactory(is_staff=True)
    lifecycle.order_transition(order_id=order.pk, to_status=S.PAID, by=member)
    lifecycle.order_transition(order_id=order.pk, to_status=S.SHIPPED, by=staff, note="SF")
    Order.objects.filter(pk=order.pk).update(tracking_number="SF1234567")

    response = member_client.get(order.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Electric Kettle" in html and "KT-9" in html
    assert "¥240.00" in html and "¥250.00" in html and "¥10.00" in html
    assert "1 Wensan Road" in html and "Li Lei" in html
    assert "SF1234567" in html
    timeline = response.context["timeline"]
    assert [(e.to_status, e.actor, e.note) for e in timeline] == [
        (S.PAID, "member", ""),
        (S.SHIPPED, "staff", "SF"),
    ]
    assert "by the shop" in html and staff.email not in html


def test_detail_translates_system_notes(member_client, member):
    order = _order(member, payment_due_at=timezone.now() - timedelta(minutes=1))
    from orders import services

    services.order_expire(order_id=order.pk)

    response = member_client.get(order.get_absolute_url())

    assert "Not paid in time" in response.content.decode()
    assert response.context["timeline"][0].actor == "system"


@pytest.mark.parametrize(
    "status,can_pay,can_cancel,can_confirm",
    [
        (S.PENDING_PAYMENT, True, True, False),
        (S.PAID, False, True, False),
        (S.SHIPPED, False, False, False),
        (S.DELIVERED, False, False, True),
        (S.COMPLETED, False, False, False),
        (S.CANCELLED, False, False, False),
    ],
)
def test_detail_offers_the_actions_of_the_status(
    member_client, member, status, can_pay, can_cancel, can_confirm
):
    order = _order(member, status=status)

    response = member_client.get(order.get_absolute_url())

    context = response.context
    assert (context["can_pay"], context["can_cancel"], context["can_confirm"]) == (
        can_pay,
        can_cancel,
        can_confirm,
    )
    html = response.content.decode()
    assert (reverse("orders:order_cancel", args=[order.number]) in html) == can_cancel
    assert (reverse("orders:order_confirm", args=[order.number]) in html) == can_confirm


@pytest.mark.parametrize("status,reviewable", [(S.SHIPPED, False), (S.DELIVERED, True)])
def test_items_are_reviewable_once_delivered_unless_fully_refunded(
    member_client, member, status, reviewable
):
    order = _order(member, status=status, names=("Cup", "Plate"))
    refunded = order.items.order_by("pk").last()
    refunded.refunded_quantity = refunded.quantity
    refunded.save(update_fields=["refunded_quantity"])

    response = member_client.get(order.get_absolute_url())

    assert [row.can_review for row in response.context["items"]] == [reviewable, False]


def test_detail_lists_refunds(member_client, member):
    order = _order(member, status=S.DELIVERED)
    Refund.objects.create(order=order, amount=Decimal("5.00"), reason="late delivery")
    Order.objects.filter(pk=order.pk).update(refunded_total=Decimal("5.00"))

    html = member_client.get(order.get_absolute_url()).content.decode()

    assert "late delivery" in html and "−¥5.00" in html


@pytest.mark.parametrize("lines", [1, 10])
def test_detail_queries_do_not_grow_with_lines(
    member_client, member, lines, django_assert_max_num_queries
):
    order = _order(member, status=S.DELIVERED, names=[f"P{i}" for i in range(lines)])
    for status in (S.COMPLETED,):
        lifecycle.order_transition(order_id=order.pk, to_status=status, by=member)

    # session, user, order, lines (+ products, reviews), changes (+ who), payments, refunds,
    # refund lines; base page: department nav, cart count
    with django_assert_max_num_queries(12):  # + discounts and points
        response = member_client.get(order.get_absolute_url())

    assert len(response.context["items"]) == lines


# --- cancel -----------------------------------------------------------------------------------


def test_member_cancels_a_pending_order(member_client, member):
    order = _order(member)
    product = order.items.get().product

    response = member_client.post(
        reverse("orders:order_cancel", args=[order.number]), {"note": "ordered twice"}
    )

    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == S.CANCELLED
    assert product.stock == 6
    assert OrderStatusChange.objects.get(order=order).note == "ordered twice"
    page = member_client.get(response["Location"])
    assert "Your order has been cancelled." in page.content.decode()


def test_cancel_of_a_paid_order_says_it_is_refunded(member_client, member):
    order = _order(member, status=S.PAID)
    Payment.objects.create(
        order=order, provider="simulated", amount=order.total, status="succeeded"
    )

    response = member_client.post(reverse("orders:order_cancel", args=[order.number]), follow=True)

    assert "The payment will be refunded." in response.content.decode()
    assert Refund.objects.get(order=order).amount == order.total


def test_cancel_after_shipping_is_refused_with_a_message(member_client, member):
    order = _order(member, status=S.SHIPPED)

    response = member_client.post(reverse("orders:order_cancel", args=[order.number]), follow=True)

    assert response.status_code == 200
    assert "could not be cancelled" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED


def test_cancel_with_an_overlong_note_is_refused(member_client, member):
    order = _order(member)

    response = member_client.post(
        reverse("orders:order_cancel", args=[order.number]), {"note": "x" * 256}, follow=True
    )

    assert "at most 255 characters" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT


@pytest.mark.parametrize("action", ["orders:order_cancel", "orders:order_confirm"])
def test_actions_refuse_get(member_client, member, action):
    order = _order(member, status=S.DELIVERED)

    assert member_client.get(reverse(action, args=[order.number])).status_code == 405


# --- confirm receipt --------------------------------------------------------------------------


def test_member_confirms_receipt(member_client, member):
    order = _order(member, status=S.DELIVERED)

    response = member_client.post(reverse("orders:order_confirm", args=[order.number]), follow=True)

    assert Order.objects.get(pk=order.pk).status == S.COMPLETED
    assert "You confirmed receipt" in response.content.decode()


def test_confirm_before_delivery_is_refused_with_a_message(member_client, member):
    order = _order(member, status=S.SHIPPED)

    response = member_client.post(reverse("orders:order_confirm", args=[order.number]), follow=True)

    assert response.status_code == 200
    assert "could not be confirmed" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED
