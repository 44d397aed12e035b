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
from browsing.importing import values_by
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
    products = {p.sku: p for p in shop.products}
    members = {m.external_id: m for m in shop.members}
    for start in range(0, len(orders), ORDERS_PER_BATCH):
        chunk = orders[start : start + ORDERS_PER_BATCH]
        for table, count in _write_chunk(chunk, written, products, members).items():
            counts[table] += count
    written.log(
        f"orders: +{counts['orders']:,} with {counts['order items']:,} items, "
        f"{counts['status changes']:,} status changes, {counts['payments']:,} payments, "
        f"{counts['refunds']:,} refunds and {counts['reviews']:,} reviews"
    )
    return counts


def _write_chunk(
    chunk: list[DemoOrder],
    written: WrittenShop,
    products: dict,
    members: dict[str, DemoMember],
) -> dict[str, int]:
    fee = Decimal(settings.SHIPPING_FEE)
    threshold = Decimal(settings.FREE_SHIPPING_THRESHOLD)
    timeout = timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)
    currency = settings.SHOP_CURRENCY
    batch_size = written.batch_size

    objects: list[Order] = []
    for demo in chunk:
        member = members[demo.member]
        address = member.addresses[demo.address_index] if member.addresses else None
        subtotal = demo.total
        shipping = ZERO if subtotal >= threshold else fee
        total = subtotal + shipping
        times = {}
        for status, at in demo.status_changes[1:]:
            times.setdefault(_TIME_FIELD[status], at)
        refunded = demo.status == S.REFUNDED or (demo.status == S.CANCELLED and "paid_at" in times)
        objects.append(
            Order(
                number=demo.order_id,
                external_id=demo.order_id,
                user_id=written.user_ids[demo.member],
                status=demo.status,
                source=Order.Source.SEED,
                currency=currency,
                subtotal=subtotal,
                discount_total=ZERO,
                shipping_fee=shipping,
                total=total,
                refunded_total=total if refunded else ZERO,
                recipient_name=address.recipient_name[:64] if address else "",
                phone=address.phone if address else "",
                country=address.country if address else "CN",
                province=address.province if address else "",
                city=address.city if address else "",
                district=address.district if address else "",
                line1=address.line1 if address else "",
                postal_code=address.postal_code if address else "",
                tracking_number=_tracking_number(demo.order_id) if "shipped_at" in times else "",
                placed_at=demo.placed_at,
                payment_due_at=demo.placed_at + timeout,
                **times,
            )
        )
    Order.objects.bulk_create(objects, batch_size=batch_size)

    items: list[OrderItem] = []
    item_demo: list[tuple[DemoOrder, Order, object]] = []
    changes: list[OrderStatusChange] = []
    payments: list[Payment] = []
    for demo, order in zip(chunk, objects, strict=True):
        refunded = order.refunded_total > 0
        for line in demo.lines:
            product = products[line.sku]
            line_total = line.total
            items.append(
                OrderItem(
                    order_id=order.pk,
                    product_id=written.product_ids.get(line.sku),
                    product_name=product.name,
                    sku=line.sku,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                    line_total=line_total,
                    refunded_quantity=line.quantity if refunded else 0,
                    refunded_amount=line_total if refunded else ZERO,
                )
            )
            item_demo.append((demo, order, line))
        previous, previous_at = "", None
        for status, at in demo.status_changes:
            by_member, note = _actor_and_note(previous, status, at - (previous_at or at))
            changes.append(
                OrderStatusChange(
                    order_id=order.pk,
                    from_status=previous,
                    to_status=status,
                    changed_by_id=order.user_id if by_member else None,
                    note=note,
                    created_at=at,
                )
            )
            previous, previous_at = status, at
        if order.paid_at is not None:
            payments.append(
                Payment(
                    order_id=order.pk,
                    provider="simulated",
                    amount=order.total,
                    status=Payment.Status.SUCCEEDED,
                    reference=_reference("SIM", demo.order_id),
                    created_at=order.paid_at,
                )
            )
    OrderItem.objects.bulk_create(items, batch_size=batch_size)
    OrderStatusChange.objects.bulk_create(changes, batch_size=batch_size)
    Payment.objects.bulk_create(payments, batch_size=batch_size)

    refunds: list[Refund] = []
    refund_orders: list[Order] = []
    for demo, order in zip(chunk, objects, strict=True):
        if order.refunded_total > 0:
            returned = order.status == S.REFUNDED
            refunds.append(
                Refund(
                    order_id=order.pk,
                    amount=order.refunded_total,
                    reason="Returned after delivery" if returned else "Cancelled before shipping",
                    provider_reference=_reference("SIMR", demo.order_id),
                    created_at=order.refunded_at if returned else order.cancelled_at,
                )
            )
            refund_orders.append(order)
    Refund.objects.bulk_create(refunds, batch_size=batch_size)
    refund_of = {order.pk: refund.pk for order, refund in zip(refund_orders, refunds, strict=True)}
    refund_lines = [
        RefundLine(
            refund_id=refund_of[item.order_id],
            item_id=item.pk,
            quantity=item.quantity,
            amount=item.line_total,
        )
        for item in items
        if item.order_id in refund_of
    ]
    RefundLine.objects.bulk_create(refund_lines, batch_size=batch_size)

    reviews = [
        Review(
            item_id=item.pk,
            user_id=order.user_id,
            product_id=item.product_id,
            rating=line.review.rating,
            title=line.review.title[:120],
            body=line.review.body[:2000],
            created_at=line.review.created_at,
            updated_at=line.review.created_at,
        )
        for item, (demo, order, line) in zip(items, item_demo, strict=True)
        if line.review is not None and order.status in (S.DELIVERED, S.COMPLETED)
    ]
    Review.objects.bulk_create(reviews, batch_size=batch_size)
    return {
        "orders": len(objects),
        "order items": len(items),
        "status changes": len(changes),
        "payments": len(payments),
        "refunds": len(refunds),
        "reviews": len(reviews),
    }
