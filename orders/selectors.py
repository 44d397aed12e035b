"""Reads of orders, already limited to what the caller may see.

A member sees only their own orders: another member's order is "not found"
(``OrderNotFound``, a 404 on the web and in the API), never "forbidden", so
order numbers and ids leak nothing. Querysets come shaped for their pages:
lists prefetch the lines (one query for any number of orders), the detail
also prefetches the timeline with who made each change, payments and refunds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from catalog.selectors import clean_query
from orders.exceptions import OrderNotFound
from orders.lifecycle import order_pk
from orders.models import Order, OrderItem, OrderStatusChange, Payment, Refund

MAX_QUERY_LENGTH = 100
# Date filters outside these days filter nothing (and stay clear of datetime's year 1 and 9999).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9999, 12, 1)
MAX_NUMBER_LENGTH = Order._meta.get_field("number").max_length


def _day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the shop's time zone (an aware datetime)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _items_prefetch() -> Prefetch:
    return Prefetch("items", queryset=OrderItem.objects.select_related("product").order_by("pk"))


def order_list_for_user(
    *,
    user,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    q: str | None = None,
) -> QuerySet[Order]:
    """The member's orders, newest first, with their lines prefetched.

    ``status`` is one of ``Order.Status`` (unknown values match nothing);
    ``date_from`` / ``date_to`` are inclusive calendar days in the shop's time
    zone; ``q`` matches the order number or any line's product name or SKU
    (case-insensitive substring, control characters dropped, at most 100 chars).
    """
    orders = Order.objects.filter(user=user)
    if status:
        orders = orders.filter(status=status)
    if date_from and date_from > FIRST_DAY:
        orders = orders.filter(placed_at__gte=_day_start(date_from))
    if date_to and date_to < LAST_DAY:
        orders = orders.filter(placed_at__lt=_day_start(date_to + timedelta(days=1)))
    query = clean_query(q)[:MAX_QUERY_LENGTH]
    if query:
        matching_line = OrderItem.objects.filter(order=OuterRef("pk")).filter(
            Q(product_name__icontains=query) | Q(sku__icontains=query)
        )
        orders = orders.filter(Q(number__icontains=query) | Exists(matching_line))
    return orders.prefetch_related(_items_prefetch()).order_by("-placed_at", "-id")


def order_detail_queryset() -> QuerySet[Order]:
    """Orders with everything the detail page, the API and the admin show."""
    return Order.objects.select_related("user").prefetch_related(
        Prefetch(
            "items",
            queryset=OrderItem.objects.select_related("product", "review").order_by("pk"),
        ),
        Prefetch(
            "status_changes",
            queryset=OrderStatusChange.objects.select_related("changed_by").order_by(
                "created_at", "id"
            ),
        ),
        Prefetch("payments", queryset=Payment.objects.order_by("created_at", "id")),
        Prefetch(
            "refunds",
            queryset=Refund.objects.prefetch_related("lines").order_by("created_at", "id"),
        ),
    )


def order_savings_attach(orders) -> list[Order]:
    """Set ``order.savings`` on each order from ``settings.ORDER_SAVINGS_PROVIDER``
    (``callable(order_ids) -> {order_id: savings}``, e.g. the promotions app's discounts by
    source and points; a bounded number of queries for any number of orders). ``None``
    when no provider is configured or it has nothing for the order."""
    orders = list(orders)
    path = getattr(settings, "ORDER_SAVINGS_PROVIDER", "")
    found = import_string(path)([o.pk for o in orders]) if path and orders else {}
    for order in orders:
        order.savings = found.get(order.pk)
    return orders


def order_id_for_user(*, user, number: str) -> int:
    """The id of the member's own order with this number; ``OrderNotFound`` otherwise."""
    order_id = (
        Order.objects.filter(user=user, number=_checked_number(number))
        .values_list("pk", flat=True)
        .first()
    )
    if order_id is None:
        raise OrderNotFound()
    return order_id


def _checked_number(number) -> str:
    number = str(number)
    if not number or len(number) > MAX_NUMBER_LENGTH or clean_query(number) != number:
        raise OrderNotFound()  # PostgreSQL refuses NUL; no number is that long
    return number


def order_get_for_user(*, user, number: str | None = None, order_id=None) -> Order:
    """One of the member's own orders by number (web) or id (API), fully prefetched.

    Raises ``OrderNotFound`` for an unknown order, another member's order or a
    malformed id.
    """
    if (number is None) == (order_id is None):
        raise TypeError("give exactly one of number and order_id")
    if number is not None:
        lookup = {"number": _checked_number(number)}
    else:
        lookup = {"pk": order_pk(order_id)}
    try:
        order = order_detail_queryset().get(user=user, **lookup)
    except Order.DoesNotExist:
        raise OrderNotFound() from None
    order_savings_attach([order])
    return order


# --- for the beat tasks ------------------------------------------------------------------


def order_ids_to_expire(*, now: datetime, after_id: int = 0, limit: int = 500) -> list[int]:
    """Ids (ascending, above ``after_id``) of unpaid orders whose time to pay has passed.

    An order without ``payment_due_at`` (imported, seeded) is due
    ``ORDER_PAYMENT_TIMEOUT_MINUTES`` after it was placed.
    """
    timeout = timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)
    due = Q(payment_due_at__lte=now) | Q(payment_due_at__isnull=True, placed_at__lte=now - timeout)
    return list(
        Order.objects.filter(status=Order.Status.PENDING_PAYMENT, pk__gt=after_id)
        .filter(due)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def order_is_expired(order: Order, *, now: datetime) -> bool:
    """Whether a pending order's time to pay has passed (same rule as ``order_ids_to_expire``)."""
    due_at = order.payment_due_at or order.placed_at + timedelta(
        minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES
    )
    return due_at <= now


def auto_complete_cutoff(*, now: datetime) -> datetime:
    """Orders delivered at or before this moment complete by themselves."""
    return now - timedelta(days=settings.ORDER_AUTO_COMPLETE_DAYS)


def order_ids_to_auto_complete(*, now: datetime, after_id: int = 0, limit: int = 500) -> list[int]:
    """Ids (ascending, above ``after_id``) of delivered orders due for auto-completion."""
    return list(
        Order.objects.filter(
            status=Order.Status.DELIVERED,
            delivered_at__lte=auto_complete_cutoff(now=now),
            pk__gt=after_id,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- timeline ------------------------------------------------------------------------------

# Notes the services write on the timeline: stored in English, shown translated.
NOTE_PAYMENT_TIMEOUT = "payment timeout"
NOTE_AUTO_COMPLETED = "auto-completed"
NOTE_RECEIPT_CONFIRMED = "receipt confirmed"
NOTE_CANCELLED = "order cancelled"
NOTE_CANCELLED_BY_STAFF = "cancelled by staff"
NOTE_REFUNDED_BY_STAFF = "refunded by staff"
SYSTEM_NOTES = {
    NOTE_PAYMENT_TIMEOUT: _("Not paid in time"),
    NOTE_AUTO_COMPLETED: _("Completed automatically after delivery"),
    NOTE_RECEIPT_CONFIRMED: _("Receipt confirmed by the member"),
    NOTE_CANCELLED: _("Order cancelled"),
    NOTE_CANCELLED_BY_STAFF: _("Cancelled by the shop"),
    NOTE_REFUNDED_BY_STAFF: _("Refunded by the shop"),
    "imported": _("Imported from order history"),  # orders.importing.NOTE_IMPORTED
}


def note_display(note: str) -> str:
    """A timeline note for people: system notes translated, members' and staff's as written."""
    label = SYSTEM_NOTES.get(note)
    return str(label) if label is not None else note


@dataclass(frozen=True)
class TimelineEntry:
    """One status change as a member sees it: the actor is a role, never a staff name."""

    from_status: str
    from_label: str
    to_status: str
    to_label: str
    at: datetime
    actor: str  # "member", "staff" or "system"
    note: str


def order_timeline(order: Order) -> list[TimelineEntry]:
    """The order's status changes, oldest first, from the prefetched ``status_changes``."""
    labels = dict(Order.Status.choices)
    entries = []
    for change in order.status_changes.all():
        if change.changed_by_id is None:
            actor = "system"
        elif change.changed_by_id == order.user_id:
            actor = "member"
        else:
            actor = "staff"
        entries.append(
            TimelineEntry(
                from_status=change.from_status,
                from_label=str(labels.get(change.from_status, change.from_status)),
                to_status=change.to_status,
                to_label=str(labels.get(change.to_status, change.to_status)),
                at=change.created_at,
                actor=actor,
                note=note_display(change.note),
            )
        )
    return entries
