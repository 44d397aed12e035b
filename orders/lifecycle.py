"""The order lifecycle: the one place that knows which status may follow which.

    pending_payment → paid → shipped → delivered → completed
    pending_payment → cancelled            (member, staff, or expiry; stock restored)
    paid            → cancelled            (before shipping; stock restored, payment refunded)
    paid/shipped/delivered/completed → refunded   (whole order; partial refunds keep the status)

``order_transition`` locks the order row, checks the move against
``TRANSITIONS``, stamps the time field, records an ``OrderStatusChange`` and
sends the matching signal after the transaction commits. Side effects that
belong to a move (restoring stock on cancel) happen in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Product
from orders import signals
from orders.exceptions import OrderNotFound, TransitionNotAllowed
from orders.models import Order, OrderStatusChange

S = Order.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.REFUNDED}),
    S.COMPLETED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# Statuses a member may cancel from (staff may too); shipped orders are refunded instead.
CANCELLABLE = frozenset({S.PENDING_PAYMENT, S.PAID})
# Statuses in which money has been taken and may be (partly) refunded.
REFUNDABLE = frozenset({S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED})
# Statuses in which the member may review delivered items.
REVIEWABLE = frozenset({S.DELIVERED, S.COMPLETED})

_TIME_FIELD = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
    S.REFUNDED: "refunded_at",
}

_SIGNAL = {
    S.PAID: signals.order_paid,
    S.COMPLETED: signals.order_completed,
    S.CANCELLED: signals.order_cancelled,
}


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


# Largest value of a bigint primary key; a larger id would make the database raise.
MAX_ORDER_ID = 2**63 - 1


def order_pk(value) -> int:
    """``value`` as an order id, or ``OrderNotFound`` if it cannot be one (not a
    positive integer, or beyond the database's bigint)."""
    if isinstance(value, bool):
        raise OrderNotFound()
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise OrderNotFound() from None
    if not 0 < pk <= MAX_ORDER_ID:
        raise OrderNotFound()
    return pk


def order_lock(order_id: int) -> Order:
    """The order row, locked until the caller's transaction ends; ``OrderNotFound`` if none."""
    try:
        return Order.objects.select_for_update().get(pk=order_pk(order_id))
    except Order.DoesNotExist:
        raise OrderNotFound() from None


def _restore_stock(order: Order) -> None:
    """Give back the reserved stock of every line not already refunded, in pk order."""
    lines = sorted(
        ((item.product_id, item.quantity - item.refunded_quantity) for item in order.items.all()),
        key=lambda pair: pair[0] or 0,
    )
    for product_id, quantity in lines:
        if product_id and quantity > 0:
            Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)


def order_transition(
    *,
    order_id: int,
    to_status: str,
    by=None,
    note: str = "",
    at: datetime | None = None,
    expect_from: frozenset[str] | None = None,
    tracking_number: str = "",
) -> Order:
    """Move an order to ``to_status`` or raise ``TransitionNotAllowed``.

    ``expect_from`` narrows the allowed starting statuses (e.g. a member may
    cancel only from ``CANCELLABLE``; the expiry task only from pending).
    Cancelling restores stock. Sends the status's signal after commit.
    Refunds with money go through ``orders.refunds.order_refund``, which calls
    this for the move to ``refunded``.
    """
    when = at or timezone.now()
    with transaction.atomic():
        order = order_lock(order_id)
        current = order.status
        if not can_transition(current, to_status) or (
            expect_from is not None and current not in expect_from
        ):
            raise TransitionNotAllowed(
                detail={"status": current, "requested": str(to_status)},
            )
        order.status = to_status
        update_fields = ["status", "updated_at"]
        field = _TIME_FIELD.get(to_status)
        if field:
            setattr(order, field, when)
            update_fields.append(field)
        if tracking_number:
            order.tracking_number = tracking_number
            update_fields.append("tracking_number")
        order.save(update_fields=update_fields)
        OrderStatusChange.objects.create(
            order=order,
            from_status=current,
            to_status=to_status,
            changed_by=by if getattr(by, "pk", None) else None,
            note=note[:255],
            created_at=when,
        )
        if to_status == S.CANCELLED:
            _restore_stock(order)
        signal = _SIGNAL.get(to_status)
        if signal is not None:
            _send_on_commit(signal, order)
    return order


def _send_on_commit(signal, order: Order, **extra) -> None:
    order_id, user_id = order.pk, order.user_id
    transaction.on_commit(
        lambda: signal.send(sender=Order, order_id=order_id, user_id=user_id, **extra)
    )


def send_on_commit(signal, order: Order, **extra) -> None:
    """Send one of ``orders.signals`` for ``order`` once the transaction commits."""
    _send_on_commit(signal, order, **extra)
