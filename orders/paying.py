"""Paying an order: ``order_pay``.

The order row is locked first, so two payments of one order run one after
the other and the second finds it paid (409). The charge goes through the
configured provider (``orders.payments.payment_provider``) for the order
total; every attempt is recorded as a ``Payment`` row. A success moves the
order pending_payment → paid through ``orders.lifecycle.order_transition``
(which records the change and sends ``order_paid`` after the commit) and logs
one ``purchase`` event per line. A decline keeps the order pending, so the
member can try again, and raises ``PaymentFailed``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from browsing.models import Event
from browsing.services import event_record
from orders.exceptions import OrderNotFound, PaymentFailed, TransitionNotAllowed
from orders.lifecycle import order_pk, order_transition
from orders.models import Order, Payment
from orders.payments import payment_provider
from orders.selectors import order_is_expired

SIMULATE_CHOICES = ("fail",)


def _own_order_locked(*, order_id: Any, user) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_pk(order_id), user=user).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_pay(
    *, order_id: Any, user, simulate: str | None = None, source: str = Event.Source.WEB
) -> Order:
    """Charge the member's pending order and mark it paid; see the module docstring.

    ``simulate="fail"`` asks the simulated provider to decline. Raises
    ``OrderNotFound`` (unknown id or another member's order),
    ``TransitionNotAllowed`` (409: not pending payment, or past its payment
    deadline) and ``PaymentFailed`` (declined; the failed attempt is kept).
    """
    provider = payment_provider()
    declined: Payment | None = None
    with transaction.atomic():
        order = _own_order_locked(order_id=order_id, user=user)
        if order.status != Order.Status.PENDING_PAYMENT:
            raise TransitionNotAllowed(
                _("This order cannot be paid: it is %(status)s.")
                % {"status": order.get_status_display().lower()},
                detail={"status": order.status, "requested": Order.Status.PAID},
            )
        if order_is_expired(order, now=timezone.now()):
            raise TransitionNotAllowed(
                _("The time to pay this order has run out."),
                code="payment_expired",
                detail={"status": order.status},
            )
        options = {"simulate": simulate} if simulate else {}
        result = provider.charge(
            order_number=order.number, amount=order.total, currency=order.currency, **options
        )
        payment = Payment.objects.create(
            order=order,
            provider=provider.name,
            amount=order.total,
            status=Payment.Status.SUCCEEDED if result.ok else Payment.Status.FAILED,
            reference=result.reference[:64],
            message=result.message[:255],
        )
        if result.ok:
            order = order_transition(
                order_id=order.pk,
                to_status=Order.Status.PAID,
                by=user,
                note=_("Paid with %(provider)s (%(reference)s)")
                % {"provider": provider.name, "reference": payment.reference},
            )
            for item in order.items.all():
                if item.product_id is None:
                    continue
                event_record(
                    user=user,
                    event_type=Event.Type.PURCHASE,
                    product_id=item.product_id,
                    quantity=item.quantity,
                    value=item.unit_price,
                    ref=order.number,
                    source=source,
                )
        else:
            declined = payment
    if declined is not None:
        raise PaymentFailed(
            _("The payment was declined: %(reason)s") % {"reason": declined.message}
            if declined.message
            else None,
            detail={"payment": declined.pk},
        )
    return order
