"""The transition table, the timeline rows and the after-commit signals of orders.lifecycle."""

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from orders import lifecycle, signals
from orders.exceptions import OrderNotFound, TransitionNotAllowed
from orders.models import Order, OrderStatusChange
from tests.factories import MemberFactory, ProductFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status
ALL = list(S.values)
ALLOWED = [(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in sorted(targets)]
REFUSED = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in lifecycle.TRANSITIONS[a]]


@pytest.fixture
def received():
    """Signals of orders received, as (signal name, kwargs) in order."""
    log = []
    names = ["order_paid", "order_completed", "order_cancelled", "order_refunded"]
    handlers = []
    for name in names:

        def handler(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            log.append((_name, kwargs))

        getattr(signals, name).connect(handler, weak=False)
        handlers.append((name, handler))
    yield log
    for name, handler in handlers:
        getattr(signals, name).disconnect(handler)


def _order(status=S.PENDING_PAYMENT, **kw):
    return order_with_items(products=[ProductFactory(stock=5)], quantities=[2], status=status, **kw)


def test_table_covers_every_status():
    assert set(lifecycle.TRANSITIONS) == set(ALL)
    cancellable_by_table = {a for a, b in ALLOWED if b == S.CANCELLED}
    refundable_by_table = {a for a, b in ALLOWED if b == S.REFUNDED}
    assert cancellable_by_table == set(lifecycle.CANCELLABLE)
    assert refundable_by_table == set(lifecycle.REFUNDABLE)


@pytest.mark.parametrize("from_status,to_status", ALLOWED)
def test_allowed_transition_moves_and_stamps_the_time(from_status, to_status):
    order = _order(from_status)

    lifecycle.order_transition(order_id=order.pk, to_status=to_status)

    order.refresh_from_db()
    assert order.status == to_status
    assert getattr(order, f"{to_status.removesuffix('_payment')}_at") is not None


@pytest.mark.parametrize("from_status,to_status", REFUSED)
def test_refused_transition_raises_and_changes_nothing(from_status, to_status):
    order = _order(from_status)

    with pytest.raises(TransitionNotAllowed) as caught:
        lifecycle.order_transition(order_id=order.pk, to_status=to_status)

    order.refresh_from_db()
    assert order.status == from_status
    assert caught.value.detail == {"status": from_status, "requested": to_status}
    assert caught.value.status_code == 409
    assert not OrderStatusChange.objects.filter(order=order).exists()


def test_expect_from_narrows_the_allowed_start():
    order = _order(S.PAID)

    with pytest.raises(TransitionNotAllowed):
        lifecycle.order_transition(
            order_id=order.pk, to_status=S.CANCELLED, expect_from=frozenset({S.PENDING_PAYMENT})
        )

    assert Order.objects.get(pk=order.pk).status == S.PAID


def test_each_move_records_who_when_from_to_and_note():
    order = _order(S.PAID)
    staff = UserFactory(is_staff=True)
    when = timezone.now() - timedelta(minutes=5)

    lifecycle.order_transition(
        order_id=order.pk, to_status=S.SHIPPED, by=staff, note="left the warehouse", at=when
    )

    change = OrderStatusChange.objects.get(order=order)
    assert (change.from_status, change.to_status) == (S.PAID, S.SHIPPED)
    assert change.changed_by == staff
    assert change.note == "left the warehouse"
    assert change.created_at == when
    assert Order.objects.get(pk=order.pk).shipped_at == when


def test_a_whole_path_writes_one_row_per_move():
    order = _order()
    for status in [S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED]:
        lifecycle.order_transition(order_id=order.pk, to_status=status)

    rows = list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status")
    )

    assert rows == [
        (S.PENDING_PAYMENT, S.PAID),
        (S.PAID, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
        (S.DELIVERED, S.COMPLETED),
    ]


def test_cancel_restores_stock_of_lines_not_refunded():
    product = ProductFactory(stock=3)
    order = order_with_items(products=[product], quantities=[4])

    lifecycle.order_transition(order_id=order.pk, to_status=S.CANCELLED)

    product.refresh_from_db()
    assert product.stock == 7


def test_unknown_or_malformed_order_id_is_order_not_found():
    for bad in [0, -1, 2**63, "abc", None, True]:
        with pytest.raises(OrderNotFound):
            lifecycle.order_transition(order_id=bad, to_status=S.PAID)
    with pytest.raises(OrderNotFound):
        lifecycle.order_transition(order_id=987654, to_status=S.PAID)


@pytest.mark.parametrize(
    "from_status,to_status,signal_name",
    [
        (S.PENDING_PAYMENT, S.PAID, "order_paid"),
        (S.DELIVERED, S.COMPLETED, "order_completed"),
        (S.PENDING_PAYMENT, S.CANCELLED, "order_cancelled"),
    ],
)
def test_status_signal_is_sent_only_after_commit(
    received, django_capture_on_commit_callbacks, from_status, to_status, signal_name
):
    order = _order(from_status)

    with django_capture_on_commit_callbacks() as callbacks:
        lifecycle.order_transition(order_id=order.pk, to_status=to_status)
        assert received == []

    assert received == []  # not committed yet
    for callback in callbacks:
        callback()
    assert received == [(signal_name, {"order_id": order.pk, "user_id": order.user_id})]


def test_no_signal_when_the_transaction_rolls_back(received, django_capture_on_commit_callbacks):
    order = _order(S.PENDING_PAYMENT)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        lifecycle.order_transition(order_id=order.pk, to_status=S.PAID)
        raise RuntimeError("rolled back")

    assert callbacks == []
    assert received == []
    assert Order.objects.get(pk=order.pk).status == S.PENDING_PAYMENT


def test_moves_without_a_signal_send_nothing(received, django_capture_on_commit_callbacks):
    order = _order(S.PAID)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_transition(order_id=order.pk, to_status=S.SHIPPED)

    assert received == []


def test_changed_by_anonymous_user_is_stored_as_nobody():
    from django.contrib.auth.models import AnonymousUser

    order = _order(S.PENDING_PAYMENT, user=MemberFactory())

    lifecycle.order_transition(order_id=order.pk, to_status=S.PAID, by=AnonymousUser())

    assert OrderStatusChange.objects.get(order=order).changed_by is None
