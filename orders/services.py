"""Order lifecycle services: cancel, ship, deliver, confirm receipt, expire, auto-complete.

Every status change goes through ``orders.lifecycle.order_transition``, which
locks the order row, checks the move against ``TRANSITIONS``, records an
``OrderStatusChange`` (who, when, from, to, note) and sends the status's
signal after commit. Member services take the member and treat another
member's order as not found. Staff services take the staff user as ``by``;
the callers (admin) check staff rights. The task services (``order_expire``,
``order_complete_delivered``) are idempotent: calling them for an order that
is no longer due does nothing and returns False.

Refunds with money are in ``orders.refunds``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.selectors import clean_query
from config.api.errors import DomainError
from orders import lifecycle, refunds, selectors
from orders.exceptions import OrderNotFound, TransitionNotAllowed
from orders.models import Order
from orders.selectors import (  # noqa: F401  (the notes services write, re-exported)
    NOTE_AUTO_COMPLETED,
    NOTE_CANCELLED,
    NOTE_CANCELLED_BY_STAFF,
    NOTE_PAYMENT_TIMEOUT,
    NOTE_RECEIPT_CONFIRMED,
    NOTE_REFUNDED_BY_STAFF,
)

S = Order.Status

NOTE_MAX_LENGTH = 255
TRACKING_NUMBER_MAX_LENGTH = 64


class InvalidTrackingNumber(DomainError):
    code = "invalid_tracking_number"
    message = _("The tracking number is too long (at most 64 characters).")


def _clean_note(note: str | None) -> str:
    return clean_query(note)[:NOTE_MAX_LENGTH]


def _lock_own(order_id: int, user) -> Order:
    """The member's own order, locked; another member's order is ``OrderNotFound``."""
    order = lifecycle.order_lock(order_id)
    if order.user_id != getattr(user, "pk", None):
        raise OrderNotFound()
    return order


def order_cancel(*, order_id: int, by, note: str = "", as_staff: bool = False) -> Order:
    """Cancel an order that is not shipped yet (``lifecycle.CANCELLABLE``).

    A member (``as_staff=False``) may cancel only their own order. The stock
    of the lines is restored (``lifecycle``). A paid order's money is refunded
    through the payment provider and recorded as a ``Refund`` of everything
    not refunded yet, in the same transaction: if the provider refuses
    (``RefundFailed``), the order stays as it was. Sends ``order_cancelled``
    after commit. Raises ``TransitionNotAllowed`` (409) from other statuses.
    """
    note = _clean_note(note)
    with transaction.atomic():
        order = lifecycle.order_lock(order_id) if as_staff else _lock_own(order_id, by)
        if order.status not in lifecycle.CANCELLABLE:
            raise TransitionNotAllowed(detail={"status": order.status, "requested": S.CANCELLED})
        was_paid = order.status == S.PAID
        order = lifecycle.order_transition(
            order_id=order.pk,
            to_status=S.CANCELLED,
            by=by,
            note=note,
            expect_from=lifecycle.CANCELLABLE,
        )
        if was_paid:
            refunds.cancellation_refund(order=order, by=by, reason=note or NOTE_CANCELLED)
    return order


def order_ship(*, order_id: int, by, tracking_number: str = "") -> Order:
    """Staff: a paid order leaves the warehouse (``paid`` → ``shipped``), optionally tracked."""
    tracking_number = clean_query(tracking_number)
    if len(tracking_number) > TRACKING_NUMBER_MAX_LENGTH:
        raise InvalidTrackingNumber(detail={"tracking_number": tracking_number[:80]})
    return lifecycle.order_transition(
        order_id=order_id,
        to_status=S.SHIPPED,
        by=by,
        tracking_number=tracking_number,
        expect_from=frozenset({S.PAID}),
    )


def order_deliver(*, order_id: int, by, at: datetime | None = None) -> Order:
    """Staff: the carrier delivered the order (``shipped`` → ``delivered``; ``delivered_at`` set).

    ``ORDER_AUTO_COMPLETE_DAYS`` after ``delivered_at`` the order completes by itself.
    """
    return lifecycle.order_transition(
        order_id=order_id,
        to_status=S.DELIVERED,
        by=by,
        at=at,
        expect_from=frozenset({S.SHIPPED}),
    )


def order_confirm_receipt(*, order_id: int, user) -> Order:
    """Member: confirm receipt (确认收货) of their delivered order (``delivered`` → ``completed``).

    Sends ``order_completed`` after commit.
    """
    with transaction.atomic():
        _lock_own(order_id, user)
        return lifecycle.order_transition(
            order_id=order_id,
            to_status=S.COMPLETED,
            by=user,
            note=NOTE_RECEIPT_CONFIRMED,
            expect_from=frozenset({S.DELIVERED}),
        )


def order_complete_delivered(*, order_id: int, now: datetime | None = None) -> bool:
    """Complete a delivered order once ``ORDER_AUTO_COMPLETE_DAYS`` have passed since delivery.

    Idempotent: returns False (and changes nothing) if the order is gone, not
    delivered any more (the member confirmed, staff refunded) or not due yet.
    """
    now = now or timezone.now()
    with transaction.atomic():
        try:
            order = lifecycle.order_lock(order_id)
        except OrderNotFound:
            return False
        cutoff = selectors.auto_complete_cutoff(now=now)
        if order.status != S.DELIVERED or not order.delivered_at or order.delivered_at > cutoff:
            return False
        lifecycle.order_transition(
            order_id=order.pk, to_status=S.COMPLETED, note=NOTE_AUTO_COMPLETED, at=now
        )
    return True


def order_expire(*, order_id: int, now: datetime | None = None) -> bool:
    """Cancel an unpaid order whose time to pay has passed; its stock goes back.

    Idempotent: returns False (and changes nothing) if the order is gone,
    already paid or cancelled, or not due yet. Runs under the order's row lock,
    like paying does, so a payment racing the expiry ends in exactly one of
    paid and cancelled.
    """
    now = now or timezone.now()
    with transaction.atomic():
        try:
            order = lifecycle.order_lock(order_id)
        except OrderNotFound:
            return False
        if order.status != S.PENDING_PAYMENT or not selectors.order_is_expired(order, now=now):
            return False
        lifecycle.order_transition(
            order_id=order.pk, to_status=S.CANCELLED, note=NOTE_PAYMENT_TIMEOUT, at=now
        )
    return True
