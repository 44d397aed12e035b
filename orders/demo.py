"""The demo shop's orders: what ``seed_demo`` writes on top of ``browsing.demo``.

The generator (``browsing.demo.generator``) already produces, for every
member, the orders its purchase events imply (``DemoOrder``: lines, status
history, the member's address, reviews). ``demo_seed`` runs the browsing
writer with ``demo_orders_write`` as its history writer, so a member's orders
are written in the same transaction as their events:

* ``Order``: source "seed", ``number`` = ``external_id`` = the generator's
  order id (``DO-<member>-<n>``), which is also the ``ref`` of the order's
  purchase and rating events, so log and orders join on it. Subtotal = sum of
  the lines, shipping by the shop's rule (``SHIPPING_FEE``, free from
  ``FREE_SHIPPING_THRESHOLD``), no discount, total = subtotal + shipping; the
  address snapshot is the member's address the generator chose; each status
  time field is the time of that step in the generator's history; shipped
  orders get a tracking number.
* ``OrderItem``: the product's name, SKU and the unit price paid (sale prices
  included), ``line_total`` = unit price x quantity.
* ``OrderStatusChange``: one row per step, at the generator's times (the
  first from "" to pending_payment at placement); placing, paying,
  cancelling and confirming receipt are the member's steps, shipping,
  delivery, automatic completion and refunds the shop's (no actor), with the
  notes the order services write.
* ``Payment``: one succeeded "simulated" payment of the total for every order
  that was paid.
* ``Refund`` + ``RefundLine``: the whole order for refunded orders (returned
  after delivery) and for orders cancelled after payment; the lines'
  refunded quantity and amount and the order's ``refunded_total`` follow.
* ``Review``: rating, title, body and time of the reviewed lines (delivered
  or completed orders only); sentiment is left empty for the classifier.

No stock moves (the catalogue's stock is today's) and no signals are sent.

The history ends at the start of ``--end`` (default today), so the few orders
the generator leaves open are recent: an order still pending payment is past
its payment deadline and the expiry task cancels it at its first run, and
delivered orders older than ``ORDER_AUTO_COMPLETE_DAYS`` are completed by the
auto-complete task. Both are the real lifecycle acting on demo data.

Idempotent: an order whose ``external_id`` exists is never written again. A
database seeded before orders existed (events without orders) is completed:
``demo_seed`` asks for the history of present members whose seed purchase
events have no order and writes just their orders.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef

from browsing.demo.generator import DemoConfig, DemoMember, DemoOrder
from browsing.demo.writer import (
    BATCH_SIZE,
    SeedResult,
    WrittenShop,
    demo_shop_seed,
)
from browsing.importing import RowInserter, values_by
from browsing.models import Event
from orders.models import (
    Order,
    OrderItem,
    OrderStatusChange,
    Payment,
    Refund,
    RefundLine,
    Review,
)
from orders.selectors import NOTE_AUTO_COMPLETED, NOTE_CANCELLED, NOTE_RECEIPT_CONFIRMED

S = Order.Status
ZERO = Decimal("0.00")
ORDERS_PER_BATCH = 2_000
AUTO_COMPLETE_AFTER = timedelta(days=10)  # browsing.demo.generator._status_timeline
_TIME_FIELD = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
    S.REFUNDED: "refunded_at",
}
ORDER_TABLES = ("orders", "order items", "status changes", "payments", "refunds", "reviews")


def demo_seed(
    *,
    config: DemoConfig,
    batch_size: int = BATCH_SIZE,
    log: Callable[[str], None] | None = None,
) -> SeedResult:
    """The whole demo shop: ``browsing.demo.writer.demo_shop_seed`` plus its orders."""
    return demo_shop_seed(
        config=config,
        batch_size=batch_size,
        log=log,
        history_writers=[demo_orders_write],
        history_needed=demo_orders_missing,
    )


def demo_orders_missing(members: list[DemoMember]) -> set[str]:
    """External ids of these (present) members with seed purchases but no order for them."""
    ids = {m.external_id for m in members}
    orphan = (
        Event.objects.filter(
            source=Event.Source.SEED, event_type=Event.Type.PURCHASE, user__isnull=False
        )
        .exclude(ref="")
        .filter(~Exists(Order.objects.filter(number=OuterRef("ref"))))
        .values_list("user__external_id", flat=True)
        .distinct()
    )
    return {ext for ext in orphan if ext in ids}


def _actor_and_note(previous: str, status: str, after: timedelta) -> tuple[bool, str]:
    """Who made a generated step (the member, or the shop / system) and its timeline note."""
    if status in (S.PENDING_PAYMENT, S.PAID):
        return True, ""
    if status == S.CANCELLED:
        return True, NOTE_CANCELLED
    if status == S.COMPLETED:
        # The generator completes an order itself exactly 10 days after delivery.
        if after == AUTO_COMPLETE_AFTER:
            return False, NOTE_AUTO_COMPLETED
        return True, NOTE_RECEIPT_CONFIRMED
    return False, ""


def _tracking_number(order_id: str) -> str:
    digits = int(hashlib.sha1(order_id.encode()).hexdigest()[:12], 16) % 10**12
    return f"SF{digits:012d}"


def _reference(prefix: str, order_id: str) -> str:
    return f"{prefix}-{hashlib.sha1(f'{prefix}:{order_id}'.encode()).hexdigest()[:16]}"


def demo_orders_write(written: WrittenShop) -> dict[str, int]:
    """Write the orders of ``written.shop`` that are not in the database yet.

    The caller (``demo_shop_seed``) owns the transaction. Returns rows created
    per table (``ORDER_TABLES``).
    """
    shop = written.shop
    counts = dict.fromkeys(ORDER_TABLES, 0)
    orders = [o for o in shop.orders if o.member in written.user_ids]
    present = {
        ext
        for (ext,) in values_by(Order, "external_id", [o.order_id for o in orders], "external_id")
    }
    orders = [o for o in orders if o.order_id not in present]
    if not orders:
        return counts
    started = time.perf_counter()
    products = {p.sku: p for p in shop.products}
    members = {m.external_id: m for m in shop.members}
    for start in range(0, len(orders), ORDERS_PER_BATCH):
        chunk = orders[start : start + ORDERS_PER_BATCH]
        for table, count in _write_chunk(chunk, written, products, members).items():
            counts[table] += count
    written.log(
        f"orders: +{counts['orders']:,} with {counts['order items']:,} items, "
        f"{counts['status changes']:,} status changes, {counts['payments']:,} payments, "
        f"{counts['refunds']:,} refunds and {counts['reviews']:,} reviews "
        f"({time.perf_counter() - started:.1f}s)"
    )
    return counts


ORDER_COLUMNS = (
    "number", "external_id", "user", "status", "source", "currency", "subtotal",
    "shipping_fee", "total", "refunded_total", "recipient_name", "phone", "country",
    "province", "city", "district", "line1", "postal_code", "tracking_number", "placed_at",
    "payment_due_at", "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at",
    "refunded_at",
)  # fmt: skip
_TIME_COLUMNS = ORDER_COLUMNS[-6:]
ITEM_COLUMNS = (
    "order", "product", "product_name", "sku", "unit_price", "quantity", "line_total",
    "refunded_quantity", "refunded_amount",
)  # fmt: skip
CHANGE_COLUMNS = ("order", "from_status", "to_status", "changed_by", "note", "created_at")
PAYMENT_COLUMNS = ("order", "provider", "amount", "status", "reference", "created_at")
REFUND_COLUMNS = ("order", "amount", "reason", "provider_reference", "created_at")
REFUND_LINE_COLUMNS = ("refund", "item", "quantity", "amount")
REVIEW_COLUMNS = (
    "item", "user", "product", "rating", "title", "body", "created_at", "updated_at",
)  # fmt: skip


def _write_chunk(
    chunk: list[DemoOrder],
    written: WrittenShop,
    products: dict,
    members: dict[str, DemoMember],
) -> dict[str, int]:
    """Write some orders with everything that hangs off them, as multi-row INSERTs.

    Tuples through ``RowInserter`` rather than ``bulk_create``: building and
    compiling model instances took most of the seeding time of the orders.
    The new rows' ids are read back by their natural keys (order number;
    order + SKU for lines, which the generator never repeats within an order).
    """
    fee = Decimal(settings.SHIPPING_FEE)
    threshold = Decimal(settings.FREE_SHIPPING_THRESHOLD)
    timeout = timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)
    currency = settings.SHOP_CURRENCY
    orders_sql = RowInserter(Order, ORDER_COLUMNS)
    t = orders_sql.adapt_time

    rows, plans = [], []
    for demo in chunk:
        member = members[demo.member]
        address = member.addresses[demo.address_index] if member.addresses else None
        subtotal = demo.total
        shipping = ZERO if subtotal >= threshold else fee
        total = subtotal + shipping
        times: dict[str, object] = {}
        for status, at in demo.status_changes[1:]:
            times.setdefault(_TIME_FIELD[status], at)
        refunded = demo.status == S.REFUNDED or (demo.status == S.CANCELLED and "paid_at" in times)
        user_id = written.user_ids[demo.member]
        plans.append((demo, user_id, total, total if refunded else ZERO, times))
        rows.append(
            (
                demo.order_id, demo.order_id, user_id, demo.status, Order.Source.SEED.value,
                currency, subtotal, shipping, total, total if refunded else ZERO,
                address.recipient_name[:64] if address else "",
                address.phone if address else "",
                address.country if address else "CN",
                address.province if address else "",
                address.city if address else "",
                address.district if address else "",
                address.line1 if address else "",
                address.postal_code if address else "",
                _tracking_number(demo.order_id) if "shipped_at" in times else "",
                t(demo.placed_at), t(demo.placed_at + timeout),
                *(t(times[c]) if c in times else None for c in _TIME_COLUMNS),
            )
        )  # fmt: skip
    orders_sql.insert(rows)
    order_ids = dict(values_by(Order, "number", [d.order_id for d in chunk], "number", "pk"))

    items, changes, payments, refunds = [], [], [], []
    for demo, user_id, total, refunded_total, times in plans:
        order_id = order_ids[demo.order_id]
        for line in demo.lines:
            line_total = line.total
            items.append(
                (
                    order_id, written.product_ids.get(line.sku), products[line.sku].name,
                    line.sku, line.unit_price, line.quantity, line_total,
                    line.quantity if refunded_total else 0,
                    line_total if refunded_total else ZERO,
                )
            )  # fmt: skip
        previous, previous_at = "", None
        for status, at in demo.status_changes:
            by_member, note = _actor_and_note(previous, status, at - (previous_at or at))
            changes.append(
                (order_id, previous, status, user_id if by_member else None, note, t(at))
            )
            previous, previous_at = status, at
        if "paid_at" in times:
            payments.append(
                (
                    order_id, "simulated", total,
                    Payment.Status.SUCCEEDED.value, _reference("SIM", demo.order_id),
                    t(times["paid_at"]),
                )
            )  # fmt: skip
        if refunded_total:
            returned = demo.status == S.REFUNDED
            refunds.append(
                (
                    order_id, refunded_total,
                    "Returned after delivery" if returned else "Cancelled before shipping",
                    _reference("SIMR", demo.order_id),
                    t(times["refunded_at"] if returned else times["cancelled_at"]),
                )
            )  # fmt: skip
    RowInserter(OrderItem, ITEM_COLUMNS).insert(items)
    RowInserter(OrderStatusChange, CHANGE_COLUMNS).insert(changes)
    RowInserter(Payment, PAYMENT_COLUMNS).insert(payments)
    RowInserter(Refund, REFUND_COLUMNS).insert(refunds)

    ids = list(order_ids.values())
    item_ids = {
        (o, sku): pk for o, sku, pk in values_by(OrderItem, "order", ids, "order", "sku", "pk")
    }
    refund_ids = dict(values_by(Refund, "order", [r[0] for r in refunds], "order", "pk"))
    refund_lines = [
        (refund_ids[item[0]], item_ids[(item[0], item[3])], item[5], item[6])
        for item in items
        if item[0] in refund_ids
    ]
    RowInserter(RefundLine, REFUND_LINE_COLUMNS).insert(refund_lines)
    reviews = [
        (
            item_ids[(order_ids[demo.order_id], line.sku)], user_id,
            written.product_ids.get(line.sku), line.review.rating, line.review.title[:120],
            line.review.body[:2000], t(line.review.created_at), t(line.review.created_at),
        )
        for demo, user_id, _total, _refunded, _times in plans
        if demo.status in (S.DELIVERED, S.COMPLETED)
        for line in demo.lines
        if line.review is not None
    ]  # fmt: skip
    RowInserter(Review, REVIEW_COLUMNS).insert(reviews)
    return {
        "orders": len(rows),
        "order items": len(items),
        "status changes": len(changes),
        "payments": len(payments),
        "refunds": len(refunds),
        "reviews": len(reviews),
    }
