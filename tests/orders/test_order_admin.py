"""Order admin: list, filters, search, inlines, status actions, the read-only cart list."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders import lifecycle
from orders.models import Cart, CartItem, Order, OrderStatusChange, Payment, Refund
from tests.factories import MemberFactory, ProductFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status
CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def staff_user():
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _order(status=S.PAID, user=None, **kw):
    return order_with_items(
        user=user, products=[ProductFactory(stock=5)], quantities=[2], status=status, **kw
    )


def _act(staff_client, action, orders):
    return staff_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]


# --- list, filters, search ---------------------------------------------------------------------


def test_members_cannot_open_the_order_admin(client):
    client.force_login(MemberFactory())

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_changelist_filters_by_status_and_source(staff_client):
    paid = _order(S.PAID, source="web")
    _order(S.SHIPPED, source="web")
    _order(S.PAID, source="import")

    response = staff_client.get(CHANGELIST, {"status__exact": "paid", "source__exact": "web"})

    assert [o.pk for o in response.context["cl"].result_list] == [paid.pk]


@pytest.mark.parametrize("query", ["buyer@example.com", "SKU-FIND", "Findable Lamp", "T-ADMIN-1"])
def test_search_by_member_email_sku_product_name_and_number(staff_client, query):
    buyer = MemberFactory(email="buyer@example.com")
    product = ProductFactory(sku="SKU-FIND-1", name="Findable Lamp")
    order = order_with_items(user=buyer, products=[product, ProductFactory()], number="T-ADMIN-1")
    _order()

    response = staff_client.get(CHANGELIST, {"q": query})

    assert [o.pk for o in response.context["cl"].result_list] == [order.pk]


def test_placed_date_filter_and_date_hierarchy(staff_client):
    order = _order()
    page = staff_client.get(CHANGELIST)
    date_filter = next(f for f in page.context["cl"].filter_specs if f.title == "placed at")
    past_week = next(
        c for c in date_filter.choices(page.context["cl"]) if c["display"] == "Past 7 days"
    )

    filtered = staff_client.get(CHANGELIST + past_week["query_string"])
    by_year = staff_client.get(CHANGELIST, {"placed_at__year": order.placed_at.year})

    assert [o.pk for o in filtered.context["cl"].result_list] == [order.pk]
    assert [o.pk for o in by_year.context["cl"].result_list] == [order.pk]


@pytest.mark.parametrize("orders", [1, 15])
def test_changelist_queries_do_not_grow_with_orders(
    staff_client, orders, django_assert_max_num_queries
):
    for _ in range(orders):
        _order()

    with django_assert_max_num_queries(8):
        response = staff_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == orders


# --- detail ----------------------------------------------------------------------------------


def test_detail_shows_items_timeline_payments_and_refunds_read_only(staff_client, staff_user):
    order = _order(S.PENDING_PAYMENT)
    lifecycle.order_transition(order_id=order.pk, to_status=S.PAID, note="paid online")
    Payment.objects.create(
        order=order, provider="simulated", amount=order.total, status="succeeded"
    )
    Refund.objects.create(
        order=order, amount=Decimal("1.00"), reason="scratch", created_by=staff_user
    )

    response = staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "paid online" in html and "scratch" in html and "simulated" in html
    form = response.context["adminform"].form
    assert "status" not in form.fields
    assert "total" not in form.fields and "refunded_total" not in form.fields
    assert "tracking_number" in form.fields


def test_staff_cannot_change_money_or_status_by_posting_the_form(staff_client):
    order = _order(S.PAID)
    url = reverse("admin:orders_order_change", args=[order.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update({"total": "0.01", "status": "completed", "tracking_number": "YT-1"})
    for prefix in ["items", "status_changes", "payments", "refunds"]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == (S.PAID, "YT-1")
    assert order.total == Decimal("198.00")


def test_orders_cannot_be_added_or_deleted_in_admin(staff_client):
    order = _order()

    assert staff_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    )


# --- actions ---------------------------------------------------------------------------------


def test_mark_shipped_then_delivered(staff_client, staff_user):
    orders = [_order(S.PAID), _order(S.PAID)]

    shipped = _act(staff_client, "mark_shipped", orders)
    delivered = _act(staff_client, "mark_delivered", orders)

    assert "2 orders marked as shipped." in _messages(shipped)
    assert "2 orders marked as delivered." in _messages(delivered)
    for order in orders:
        order.refresh_from_db()
        assert order.status == S.DELIVERED and order.delivered_at is not None
        assert order.tracking_number == ""
    assert set(OrderStatusChange.objects.values_list("changed_by", flat=True)) == {staff_user.pk}


def test_refused_transition_is_a_message_per_order_not_an_error(staff_client):
    paid = _order(S.PAID, number="T-OK-1")
    pending = _order(S.PENDING_PAYMENT, number="T-NO-1")

    response = _act(staff_client, "mark_shipped", [paid, pending])

    assert response.status_code == 200
    messages = _messages(response)
    assert "1 order marked as shipped." in messages
    assert any(m.startswith("Order T-NO-1: ") for m in messages)
    assert Order.objects.get(pk=pending.pk).status == S.PENDING_PAYMENT
    assert Order.objects.get(pk=paid.pk).status == S.SHIPPED


def test_cancel_action_cancels_and_refunds_a_paid_order(staff_client):
    order = _order(S.PAID)
    product = order.items.get().product

    response = _act(staff_client, "cancel_orders", [order])

    order.refresh_from_db()
    product.refresh_from_db()
    assert "1 order cancelled." in _messages(response)
    assert order.status == S.CANCELLED
    assert order.refunded_total == order.total
    assert product.stock == 7
    assert OrderStatusChange.objects.get(order=order).note == "cancelled by staff"


def test_cancel_action_refuses_a_shipped_order(staff_client):
    order = _order(S.SHIPPED, number="T-SHIP-1")

    response = _act(staff_client, "cancel_orders", [order])

    assert any(m.startswith("Order T-SHIP-1: ") for m in _messages(response))
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED


def test_refund_action_refunds_the_whole_order(staff_client, staff_user):
    order = _order(S.DELIVERED, shipping_fee=Decimal("10.00"))

    response = _act(staff_client, "refund_orders", [order])

    order.refresh_from_db()
    refund = Refund.objects.get(order=order)
    assert "1 order refunded." in _messages(response)
    assert order.status == S.REFUNDED
    assert refund.amount == order.total == Decimal("208.00")
    assert refund.created_by == staff_user


def test_refund_action_refuses_an_unpaid_order(staff_client):
    order = _order(S.PENDING_PAYMENT, number="T-UNPAID")

    response = _act(staff_client, "refund_orders", [order])

    assert any(m.startswith("Order T-UNPAID: ") for m in _messages(response))
    assert not Refund.objects.exists()


# --- carts -----------------------------------------------------------------------------------


def test_cart_admin_lists_carts_read_only(staff_client):
    cart = Cart.objects.create(user=MemberFactory(email="carter@example.com"))
    CartItem.objects.create(cart=cart, product=ProductFactory(), quantity=2)
    Cart.objects.create(visitor_key="visitor-1")

    listing = staff_client.get(reverse("admin:orders_cart_changelist"))
    detail = staff_client.get(reverse("admin:orders_cart_change", args=[cart.pk]))

    assert listing.status_code == 200
    assert "carter@example.com" in listing.content.decode()
    assert detail.status_code == 200
    assert not detail.context["has_change_permission"]
    assert staff_client.get(reverse("admin:orders_cart_add")).status_code == 403
