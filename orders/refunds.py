"""Refunds: money back for a paid order, the whole of it or some of its lines.

Amounts
    A line's refundable money is what the member paid for it:
    ``line_total - discount``. Refunding ``q`` units of a line whose first
    ``r`` units were refunded before returns the line's paid amount pro rata
    for ``r + q`` units, rounded half-up to the cent, minus what was already
    refunded (cumulative rounding). So partial refunds never drift, the last
    unit takes the remainder, and a fully refunded line has refunded exactly
    its paid amount. Shipping is refunded only by a whole-order refund, which
    returns everything not refunded yet (``total - refunded_total``).

Bookkeeping
    Under the order's row lock (``lifecycle.order_lock``, the same lock every
    status change takes): the provider refunds the money
    (``payments.payment_provider().refund``), then one ``Refund`` with its
    ``RefundLine`` rows is written and ``OrderItem.refunded_quantity`` /
    ``refunded_amount`` and ``Order.refunded_total`` grow by guarded
    ``F()`` updates. Database constraints refuse a refunded quantity above the
    line's quantity and a refunded total above the order's total, as a last line.

Stock
    Lines refunded while the order is ``paid`` (goods still in the warehouse)
    go back to stock. Lines of shipped, delivered or completed orders are not
    restocked: returned goods are inspected by staff, who adjust stock in the
    catalogue admin.

Status
    When every unit of every line is refunded the order moves to ``refunded``
    (``lifecycle.order_transition``); a partial refund keeps the status.
    ``signals.order_refunded`` is sent after commit with ``refund_id`` and
    ``amount``. A cancellation of a paid order refunds the money too
    (``cancellation_refund``), but the order ends ``cancelled`` and only
    ``order_cancelled`` is sent.

The provider is called inside the transaction, after every check: if it
refuses, nothing is written. If the database failed after the provider had
refunded, the provider reference is in the log line written just before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from config.api.errors import Conflict, DomainError
from orders import lifecycle, signals
from orders.exceptions import TransitionNotAllowed
from orders.models import ZERO, Order, OrderItem, Payment, Refund, RefundLine
from orders.payments import payment_provider

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
S = Order.Status


class RefundInvalid(DomainError):
    code = "invalid_refund"
    message = _("The refund lines are not valid.")


class RefundExceedsRemaining(Conflict):
    code = "refund_exceeds_remaining"
    message = _("That is more than is left to refund.")


class NothingToRefund(Conflict):
    code = "nothing_to_refund"
    message = _("There is nothing left to refund on this order.")


class RefundFailed(DomainError):
    code = "refund_failed"
    message = _("The payment provider refused the refund.")


@dataclass(frozen=True)
class PlannedLine:
    item: OrderItem
    quantity: int
    amount: Decimal


def line_refund_amount(
    *, paid: Decimal, quantity: int, refunded_quantity: int, refunded_amount: Decimal, units: int
) -> Decimal:
    """Money for refunding ``units`` more units of a line (see the module docstring)."""
    upto = refunded_quantity + units
    if upto >= quantity:
        return paid - refunded_amount
    cumulative = (paid * upto / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(cumulative - refunded_amount, ZERO)


def _plan_line(item: OrderItem, units: int) -> PlannedLine:
    return PlannedLine(
        item=item,
        quantity=units,
        amount=line_refund_amount(
            paid=item.paid_amount,
            quantity=item.quantity,
            refunded_quantity=item.refunded_quantity,
            refunded_amount=item.refunded_amount,
            units=units,
        ),
    )


def _parse_lines(lines: Iterable | None) -> dict[int, int] | None:
    """``[(item_id, quantity), ...]`` as ``{item_id: total quantity}``; ``None`` stays None."""
    if lines is None:
        return None
    if isinstance(lines, str | bytes | dict):
        raise RefundInvalid(detail={"lines": "a list of (item id, quantity) pairs"})
    wanted: dict[int, int] = {}
    for line in lines:
        try:
            item_id, quantity = line
        except (TypeError, ValueError):
            raise RefundInvalid(detail={"lines": "a list of (item id, quantity) pairs"})
        for value in (item_id, quantity):
            if isinstance(value, bool) or not isinstance(value, int):
                raise RefundInvalid(detail={"lines": "item ids and quantities are integers"})
        if quantity < 1:
            raise RefundInvalid(detail={"item": item_id, "quantity": "at least 1"})
        wanted[item_id] = wanted.get(item_id, 0) + quantity
    if not wanted:
        raise RefundInvalid(detail={"lines": "no lines given"})
    return wanted


def _plan_lines(items: list[OrderItem], wanted: dict[int, int]) -> list[PlannedLine]:
    by_id = {item.pk: item for item in items}
    plan = []
    for item_id, units in sorted(wanted.items()):
        item = by_id.get(item_id)
        if item is None:
            raise RefundInvalid(_("That line is not part of this order."), detail={"item": item_id})
        left = item.quantity - item.refunded_quantity
        if units > left:
            raise RefundExceedsRemaining(detail={"item": item_id, "refundable_quantity": left})
        plan.append(_plan_line(item, units))
    return plan


def _plan_everything_left(items: list[OrderItem]) -> list[PlannedLine]:
    return [
        _plan_line(item, item.quantity - item.refunded_quantity)
        for item in items
        if item.quantity > item.refunded_quantity
    ]


def _provider_refund(order: Order, amount: Decimal) -> str:
    succeeded = order.payments.filter(status=Payment.Status.SUCCEEDED)
    payment = succeeded.order_by("-created_at", "-id").first()
    result = payment_provider().refund(
        order_number=order.number,
        payment_reference=payment.reference if payment else "",
        amount=amount,
        currency=order.currency,
    )
    if not result.ok:
        raise RefundFailed(detail={"provider_message": result.message})
    logger.info(
        "order %s: provider refunded %s %s (%s)",
        order.number,
        amount,
        order.currency,
        result.reference,
    )
    return result.reference


def _record(*, order: Order, plan: list[PlannedLine], amount: Decimal, reason: str, by) -> Refund:
    """Refund ``amount`` through the provider and book it; the caller holds the order lock."""
    if amount <= ZERO:
        raise NothingToRefund()
    if order.refunded_total + amount > order.total:
        raise RefundExceedsRemaining(
            detail={"refundable_amount": str(order.total - order.refunded_total)}
        )
    reference = _provider_refund(order, amount)
    refund = Refund.objects.create(
        order=order,
        amount=amount,
        reason=str(reason or "")[:255],
        created_by=by if getattr(by, "pk", None) else None,
        provider_reference=reference[:64],
    )
    RefundLine.objects.bulk_create(
        RefundLine(refund=refund, item=line.item, quantity=line.quantity, amount=line.amount)
        for line in plan
        if line.quantity > 0
    )
    for line in plan:
        updated = OrderItem.objects.filter(
            pk=line.item.pk, refunded_quantity__lte=line.item.quantity - line.quantity
        ).update(
            refunded_quantity=F("refunded_quantity") + line.quantity,
            refunded_amount=F("refunded_amount") + line.amount,
        )
        if updated != 1:  # only if someone wrote without the order lock
            raise RefundExceedsRemaining(detail={"item": line.item.pk})
        line.item.refunded_quantity += line.quantity
        line.item.refunded_amount += line.amount
    updated = Order.objects.filter(pk=order.pk, refunded_total__lte=order.total - amount).update(
        refunded_total=F("refunded_total") + amount
    )
    if updated != 1:
        raise RefundExceedsRemaining()
    order.refunded_total += amount
    return refund


def _restock(plan: list[PlannedLine]) -> None:
    """Put refunded units back in stock, product rows in pk order."""
    for line in sorted(plan, key=lambda line: line.item.product_id or 0):
        if line.item.product_id and line.quantity > 0:
            Product.objects.filter(pk=line.item.product_id).update(stock=F("stock") + line.quantity)


def order_refund(
    *,
    order_id: int,
    by=None,
    lines: Iterable[tuple[int, int]] | None = None,
    reason: str = "",
) -> Refund:
    """Refund the whole order (``lines=None``) or some units of some lines.

    Allowed in ``lifecycle.REFUNDABLE`` statuses (else ``TransitionNotAllowed``,
    409). Raises ``RefundInvalid`` (400) for malformed lines or an item of
    another order, ``RefundExceedsRemaining`` (409) for more units than are
    left, ``NothingToRefund`` (409) when the amount would be zero,
    ``RefundFailed`` (400) when the provider refuses, ``OrderNotFound`` (404).
    Returns the ``Refund``; sends ``order_refunded`` after commit.
    """
    wanted = _parse_lines(lines)
    with transaction.atomic():
        order = lifecycle.order_lock(order_id)
        if order.status not in lifecycle.REFUNDABLE:
            raise TransitionNotAllowed(detail={"status": order.status, "requested": S.REFUNDED})
        items = list(OrderItem.objects.filter(order=order).order_by("pk"))
        if wanted is None:
            plan = _plan_everything_left(items)
            amount = order.total - order.refunded_total
        else:
            plan = _plan_lines(items, wanted)
            amount = sum((line.amount for line in plan), ZERO)
        refund = _record(order=order, plan=plan, amount=amount, reason=reason, by=by)
        if order.status == S.PAID:
            _restock(plan)
        if all(item.refunded_quantity >= item.quantity for item in items):
            lifecycle.order_transition(
                order_id=order.pk, to_status=S.REFUNDED, by=by, note=str(reason or "")
            )
        lifecycle.send_on_commit(signals.order_refunded, order, refund_id=refund.pk, amount=amount)
    return refund


def cancellation_refund(*, order: Order, by=None, reason: str = "") -> Refund | None:
    """Refund all that is left of a paid order being cancelled; no restock, no signal.

    For ``orders.services.order_cancel`` only: call it inside the cancel's
    transaction, holding the order lock, after the move to ``cancelled`` (which
    restored the stock of the lines not refunded yet). Returns None when
    nothing is left to refund.
    """
    items = list(OrderItem.objects.filter(order=order).order_by("pk"))
    amount = order.total - order.refunded_total
    if amount <= ZERO:
        return None
    return _record(
        order=order, plan=_plan_everything_left(items), amount=amount, reason=reason, by=by
    )
