"""Paying an order: service, API (POST orders/{id}/pay/) and the pay page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from browsing.models import Event
from orders import signals
from orders.cart import CartOwner, cart_add_item
from orders.checkout import order_place
from orders.exceptions import OrderNotFound, PaymentFailed, TransitionNotAllowed
from orders.models import Order, OrderStatusChange, Payment
from orders.paying import order_pay
from tests.factories import AddressFactory, MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def order(member):
    """A real pending order of two lines, placed through checkout."""
    address = AddressFactory(user=member, is_default=True)
    owner = CartOwner(user=member)
    tea = ProductFactory(price=Decimal("30.00"), stock=10)
    cup = ProductFactory(price=Decimal("8.50"), stock=10)
    cart_add_item(owner=owner, product_id=tea.pk, quantity=2)
    cart_add_item(owner=owner, product_id=cup.pk, quantity=1)
    return order_place(user=member, address_id=address.pk)


@pytest.fixture
def api(api_client, member):
    token = Token.objects.create(user=member)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def _assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    if code:
        assert body["code"] == code
    return body


# --- service -------------------------------------------------------------------------------------


def test_paying_marks_the_order_paid_and_records_the_payment(member, order):
    paid = order_pay(order_id=order.pk, user=member)

    assert paid.status == S.PAID and paid.paid_at is not None
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount, payment.provider) == (
        "succeeded",
        order.total,
        "simulated",
    )
    assert payment.reference.startswith("SIM-")
    assert list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status")
    ) == [("", S.PENDING_PAYMENT), (S.PENDING_PAYMENT, S.PAID)]


def test_paying_logs_one_purchase_event_per_line(member, order):
    order_pay(order_id=order.pk, user=member)

    events = list(
        Event.objects.filter(event_type="purchase")
        .order_by("value")
        .values_list("user_id", "product_id", "quantity", "value", "ref")
    )
    items = {i.product_id: i for i in order.items.all()}
    assert sorted(events, key=lambda e: e[1]) == sorted(
        [(member.pk, pid, i.quantity, i.unit_price, order.number) for pid, i in items.items()],
        key=lambda e: e[1],
    )


def test_order_paid_is_sent_only_after_commit(member, order, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, order_id, user_id, **kwargs):
        received.append(order_id)

    signals.order_paid.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order_pay(order_id=order.pk, user=member)
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        signals.order_paid.disconnect(receiver)

    assert received == [order.pk]


def test_a_declined_payment_keeps_the_order_pending_and_the_attempt(member, order):
    with pytest.raises(PaymentFailed):
        order_pay(order_id=order.pk, user=member, simulate="fail")

    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT
    assert list(Payment.objects.values_list("status", flat=True)) == ["failed"]
    assert not Event.objects.filter(event_type="purchase").exists()


def test_a_declined_order_can_be_paid_on_retry(member, order):
    with pytest.raises(PaymentFailed):
        order_pay(order_id=order.pk, user=member, simulate="fail")

    assert order_pay(order_id=order.pk, user=member).status == S.PAID
    assert list(Payment.objects.order_by("id").values_list("status", flat=True)) == [
        "failed",
        "succeeded",
    ]


def test_paying_twice_is_refused(member, order):
    order_pay(order_id=order.pk, user=member)

    with pytest.raises(TransitionNotAllowed):
        order_pay(order_id=order.pk, user=member)
    assert Payment.objects.count() == 1


def test_a_cancelled_order_cannot_be_paid(member, order):
    Order.objects.filter(pk=order.pk).update(status=S.CANCELLED)

    with pytest.raises(TransitionNotAllowed):
        order_pay(order_id=order.pk, user=member)
    assert not Payment.objects.exists()


def test_an_order_past_its_deadline_cannot_be_paid(member, order):
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(TransitionNotAllowed) as exc:
        order_pay(order_id=order.pk, user=member)
    assert exc.value.code == "payment_expired"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("order_id", ["OTHER", 999999, 0, -1, 2**70, "abc", None])
def test_another_members_or_an_unknown_order_is_not_found(member, order, order_id):
    other = order_place_for_other() if order_id == "OTHER" else None
    with pytest.raises(OrderNotFound):
        order_pay(order_id=other.pk if other else order_id, user=member)


def order_place_for_other() -> Order:
    stranger = MemberFactory()
    address = AddressFactory(user=stranger)
    cart_add_item(owner=CartOwner(user=stranger), product_id=ProductFactory().pk, quantity=1)
    return order_place(user=stranger, address_id=address.pk)


# --- API -----------------------------------------------------------------------------------------


def _pay_url(order_id):
    return f"/api/v1/orders/{order_id}/pay/"


def test_api_pay_returns_the_paid_order(api, order):
    response = api.post(_pay_url(order.pk), {}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["number"], body["status"], body["total"]) == (
        order.pk,
        order.number,
        "paid",
        str(order.total),
    )
    assert Event.objects.filter(event_type="purchase", source="api").count() == 2


def test_api_simulated_decline_is_a_400_and_the_order_stays_pending(api, order):
    _assert_error(
        api.post(_pay_url(order.pk), {"simulate": "fail"}, format="json"), 400, "payment_failed"
    )

    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT


def test_api_double_pay_is_a_409(api, order):
    api.post(_pay_url(order.pk), {}, format="json")

    _assert_error(api.post(_pay_url(order.pk), {}, format="json"), 409, "transition_not_allowed")


@pytest.mark.parametrize("body", [{"simulate": "succeed"}, {"simulate": 1}, {"simulate": ["fail"]}])
def test_api_bad_simulate_value_is_a_400(api, order, body):
    _assert_error(api.post(_pay_url(order.pk), body, format="json"), 400, "validation_error")
    assert not Payment.objects.exists()


def test_api_another_members_order_is_a_404(api):
    theirs = order_place_for_other()

    _assert_error(api.post(_pay_url(theirs.pk), {}, format="json"), 404, "order_not_found")
    theirs.refresh_from_db()
    assert theirs.status == S.PENDING_PAYMENT


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/999999/pay/", "/api/v1/orders/99999999999999999999999/pay/"]
)
def test_api_unknown_order_is_a_404(api, path):
    _assert_error(api.post(path, {}, format="json"), 404)


def test_api_pay_needs_a_member(api_client, order):
    _assert_error(api_client.post(_pay_url(order.pk), {}, format="json"), 401)


# --- the pay page --------------------------------------------------------------------------------


def test_pay_page_shows_the_order_and_both_buttons(member_client, order):
    response = member_client.get(reverse("orders:order_pay", args=[order.number]))

    html = response.content.decode()
    assert response.status_code == 200
    assert order.number in html
    assert 'value="pay"' in html and 'value="fail"' in html
    assert order.items.first().product_name in html


def test_paying_on_the_page_goes_to_the_order(member_client, order):
    response = member_client.post(
        reverse("orders:order_pay", args=[order.number]), {"action": "pay"}
    )

    assert response["Location"] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.status == S.PAID


def test_a_simulated_decline_on_the_page_comes_back_with_a_message(member_client, order):
    url = reverse("orders:order_pay", args=[order.number])

    response = member_client.post(url, {"action": "fail"}, follow=True)

    assert response.redirect_chain[-1][0] == url
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert "declined" in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.PENDING_PAYMENT


@pytest.mark.parametrize("data", [{}, {"action": "steal"}, {"action": "\x00"}])
def test_a_bad_pay_action_pays_nothing(member_client, order, data):
    response = member_client.post(reverse("orders:order_pay", args=[order.number]), data)

    assert response.status_code == 302
    assert not Payment.objects.exists()


def test_the_pay_page_of_a_paid_order_goes_to_the_order(member_client, member, order):
    order_pay(order_id=order.pk, user=member)

    response = member_client.get(reverse("orders:order_pay", args=[order.number]))

    assert response["Location"] == order.get_absolute_url()


def test_another_members_pay_page_is_404(member_client):
    theirs = order_place_for_other()

    url = reverse("orders:order_pay", args=[theirs.number])
    assert member_client.get(url).status_code == 404
    assert member_client.post(url, {"action": "pay"}).status_code == 404
    assert not Payment.objects.exists()


def test_the_pay_page_needs_a_login(client, order):
    response = client.get(reverse("orders:order_pay", args=[order.number]))

    assert response["Location"].startswith(reverse("accounts:login"))
