"""Lifecycle services: cancel, ship, deliver, confirm receipt, expire, auto-complete."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import services, signals
from orders.exceptions import OrderNotFound, TransitionNotAllowed
from orders.models import Order, OrderStatusChange, Payment, Refund
from orders.payments import ChargeResult, SimulatedProvider
from orders.refunds import RefundFailed
from tests.factories import MemberFactory, ProductFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture
def member():
    return MemberFactory()


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def received():
    log = []

    def handler(sender, signal, **kwargs):
        log.append((signal, kwargs))

    for signal in (signals.order_cancelled, signals.order_refunded, signals.order_completed):
        signal.connect(handler, weak=False)
    yield log
    for signal in (signals.order_cancelled, signals.order_refunded, signals.order_completed):
        signal.disconnect(handler)


def _order(member, status=S.PENDING_PAYMENT, stock=5, quantities=(2, 1), **kw):
    products = [ProductFactory(stock=stock, price=Decimal("30.00")) for _ in quantities]
    order = order_with_items(
        user=member, products=products, quantities=list(quantities), status=status, **kw
    )
    return order, products


def _paid(order):
    Payment.objects.create(
        order=order,
        provider="simulated",
        amount=order.total,
        status=Payment.Status.SUCCEEDED,
        reference="SIM-1",
    )
    return order


# --- cancel ------------------------------------------------------------------------------


def test_member_cancels_own_pending_order_and_stock_comes_back(member):
    order, (first, second) = _order(member, quantities=(2, 1))

    services.order_cancel(order_id=order.pk, by=member, note="changed my mind")

    order.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert order.status == S.CANCELLED and order.cancelled_at is not None
    assert (first.stock, second.stock) == (7, 6)
    change = OrderStatusChange.objects.get(order=order)
    assert (change.changed_by, change.note) == (member, "changed my mind")
    assert not Refund.objects.filter(order=order).exists()


def test_cancel_of_a_paid_order_refunds_the_whole_amount(member, monkeypatch):
    order, products = _order(member, status=S.PAID, shipping_fee=Decimal("10.00"))
    order = _paid(order)
    calls = []
    original = SimulatedProvider.refund

    def spy(self, **kwargs):
        calls.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(SimulatedProvider, "refund", spy)

    services.order_cancel(order_id=order.pk, by=member)

    order.refresh_from_db()
    refund = Refund.objects.get(order=order)
    assert order.status == S.CANCELLED
    assert refund.amount == order.total == order.refunded_total == Decimal("100.00")
    assert calls == [
        {
            "order_number": order.number,
            "payment_reference": "SIM-1",
            "amount": Decimal("100.00"),
            "currency": "CNY",
        }
    ]
    assert sorted(refund.lines.values_list("quantity", "amount")) == [
        (1, Decimal("30.00")),
        (2, Decimal("60.00")),
    ]
    for product in products:
        product.refresh_from_db()
    assert [p.stock for p in products] == [7, 6]  # back once, not twice


def test_cancel_of_a_paid_order_sends_cancelled_only_after_commit(
    member, received, django_capture_on_commit_callbacks
):
    order, _ = _order(member, status=S.PAID)

    with django_capture_on_commit_callbacks() as callbacks:
        services.order_cancel(order_id=order.pk, by=member)
    assert received == []
    for callback in callbacks:
        callback()

    assert [signal for signal, _ in received] == [signals.order_cancelled]


def test_provider_refusing_the_refund_leaves_the_paid_order_untouched(member, monkeypatch):
    order, (product, _) = _order(member, status=S.PAID)
    monkeypatch.setattr(
        SimulatedProvider, "refund", lambda self, **kw: ChargeResult(ok=False, message="down")
    )

    with pytest.raises(RefundFailed):
        services.order_cancel(order_id=order.pk, by=member)

    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == S.PAID and order.refunded_total == 0
    assert product.stock == 5
    assert not OrderStatusChange.objects.filter(order=order).exists()


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED, S.COMPLETED, S.CANCELLED, S.REFUNDED])
def test_member_cannot_cancel_after_shipping(member, status):
    order, _ = _order(member, status=status)

    with pytest.raises(TransitionNotAllowed):
        services.order_cancel(order_id=order.pk, by=member)

    assert Order.objects.get(pk=order.pk).status == status


def test_member_cannot_cancel_another_members_order(member):
    order, (product, _) = _order(MemberFactory())

    with pytest.raises(OrderNotFound):
        services.order_cancel(order_id=order.pk, by=member)

    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT


def test_staff_cancels_any_members_order(member, staff):
    order, _ = _order(member, status=S.PAID)

    services.order_cancel(order_id=order.pk, by=staff, note="out of stock", as_staff=True)

    assert Order.objects.get(pk=order.pk).status == S.CANCELLED
    assert OrderStatusChange.objects.get(order=order).changed_by == staff


def test_cancel_note_is_cleaned_and_cut(member):
    order, _ = _order(member)

    services.order_cancel(order_id=order.pk, by=member, note="  a\x00b" + "x" * 400)

    note = OrderStatusChange.objects.get(order=order).note
    assert note.startswith("a b") and len(note) == 255


# --- ship, deliver, confirm --------------------------------------------------------------------


def test_staff_ships_with_tracking_then_delivers(member, staff):
    order, _ = _order(member, status=S.PAID)

    services.order_ship(order_id=order.pk, by=staff, tracking_number=" SF123 ")
    services.order_deliver(order_id=order.pk, by=staff)

    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert order.tracking_number == "SF123"
    assert order.shipped_at is not None and order.delivered_at is not None


def test_ship_refuses_an_unpaid_order(member, staff):
    order, _ = _order(member)

    with pytest.raises(TransitionNotAllowed):
        services.order_ship(order_id=order.pk, by=staff)


def test_ship_refuses_an_overlong_tracking_number(member, staff):
    order, _ = _order(member, status=S.PAID)

    with pytest.raises(services.InvalidTrackingNumber):
        services.order_ship(order_id=order.pk, by=staff, tracking_number="x" * 65)

    assert Order.objects.get(pk=order.pk).status == S.PAID


def test_deliver_refuses_an_order_not_shipped(member, staff):
    order, _ = _order(member, status=S.PAID)

    with pytest.raises(TransitionNotAllowed):
        services.order_deliver(order_id=order.pk, by=staff)


def test_member_confirms_receipt_of_delivered_order(
    member, received, django_capture_on_commit_callbacks
):
    order, _ = _order(member, status=S.DELIVERED)

    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm_receipt(order_id=order.pk, user=member)

    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.completed_at is not None
    change = OrderStatusChange.objects.get(order=order)
    assert (change.changed_by, change.note) == (member, services.NOTE_RECEIPT_CONFIRMED)
    assert [signal for signal, _ in received] == [signals.order_completed]


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAID, S.SHIPPED, S.COMPLETED])
def test_confirm_receipt_refused_unless_delivered(member, status):
    order, _ = _order(member, status=status)

    with pytest.raises(TransitionNotAllowed):
        services.order_confirm_receipt(order_id=order.pk, user=member)


def test_confirm_receipt_of_another_members_order_is_not_found(member):
    order, _ = _order(MemberFactory(), status=S.DELIVERED)

    with pytest.raises(OrderNotFound):
        services.order_confirm_receipt(order_id=order.pk, user=member)

    assert Order.objects.get(pk=order.pk).status == S.DELIVERED


# --- expire, auto-complete ------------------------------------------------------------------


def test_expire_cancels_an_overdue_unpaid_order(member):
    order, (product, _) = _order(member, payment_due_at=timezone.now() - timedelta(seconds=1))

    assert services.order_expire(order_id=order.pk) is True

    order.refresh_from_db()
    product.refresh_from_db()
    assert order.status == S.CANCELLED
    assert product.stock == 7
    change = OrderStatusChange.objects.get(order=order)
    assert (change.changed_by, change.note) == (None, "payment timeout")


def test_expire_is_a_no_op_before_the_deadline(member):
    order, _ = _order(member, payment_due_at=timezone.now() + timedelta(minutes=1))

    assert services.order_expire(order_id=order.pk) is False
    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT


@pytest.mark.parametrize("status", [S.PAID, S.CANCELLED])
def test_expire_is_a_no_op_for_paid_or_cancelled(member, status):
    order, (product, _) = _order(
        member, status=status, payment_due_at=timezone.now() - timedelta(hours=1)
    )

    assert services.order_expire(order_id=order.pk) is False

    product.refresh_from_db()
    assert Order.objects.get(pk=order.pk).status == status
    assert product.stock == 5


def test_expire_twice_cancels_and_restocks_once(member):
    order, (product, _) = _order(member, payment_due_at=timezone.now() - timedelta(minutes=1))

    results = [services.order_expire(order_id=order.pk) for _ in range(2)]

    product.refresh_from_db()
    assert results == [True, False]
    assert product.stock == 7
    assert OrderStatusChange.objects.filter(order=order).count() == 1


def test_expire_of_a_missing_order_is_a_no_op():
    assert services.order_expire(order_id=424242) is False


def test_order_without_due_time_expires_after_the_timeout(member, settings):
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 30
    fresh, _ = _order(member, placed_at=timezone.now() - timedelta(minutes=29))
    stale, _ = _order(member, placed_at=timezone.now() - timedelta(minutes=31))

    assert services.order_expire(order_id=fresh.pk) is False
    assert services.order_expire(order_id=stale.pk) is True


def test_auto_complete_after_the_configured_days_and_not_before(member, settings):
    settings.ORDER_AUTO_COMPLETE_DAYS = 7
    now = timezone.now()
    due, _ = _order(member, status=S.DELIVERED)
    early, _ = _order(member, status=S.DELIVERED)
    Order.objects.filter(pk=due.pk).update(delivered_at=now - timedelta(days=7, seconds=1))
    Order.objects.filter(pk=early.pk).update(delivered_at=now - timedelta(days=6, hours=23))

    assert services.order_complete_delivered(order_id=due.pk, now=now) is True
    assert services.order_complete_delivered(order_id=early.pk, now=now) is False

    assert Order.objects.get(pk=due.pk).status == S.COMPLETED
    assert Order.objects.get(pk=early.pk).status == S.DELIVERED
    change = OrderStatusChange.objects.get(order=due)
    assert (change.changed_by, change.note) == (None, services.NOTE_AUTO_COMPLETED)


def test_auto_complete_skips_an_order_the_member_already_confirmed(member):
    order, _ = _order(member, status=S.DELIVERED)
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=30))
    services.order_confirm_receipt(order_id=order.pk, user=member)

    assert services.order_complete_delivered(order_id=order.pk) is False
    assert OrderStatusChange.objects.filter(order=order).count() == 1
