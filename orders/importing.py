"""Import order history from a CSV file (``manage.py import_orders``).

Format: a header row, then ``customer,order_id,date,quantity,amount[,item]``
(column names in any case and order; other columns are ignored). Each row is
one order line; the rows with the same ``order_id`` form one order, wherever
they are in the file.

* ``customer``: the member's external id (created when missing, as in
  ``import_events``); all rows of an order must name the same one.
* ``date``: ISO 8601 (no zone = UTC) or Unix seconds; the order is placed at
  the earliest date of its rows.
* ``quantity``: a whole number >= 1. ``amount``: the line amount (quantity x
  unit price), >= 0, rounded half-up to cents. The unit price is amount /
  quantity rounded half-up to cents; the line total stays the amount, so the
  order total is exactly the sum of the amounts.
* ``item``: the product's external id (created when missing, priced at the
  line's unit price). Without it (column absent or cell empty) the line is
  "Imported item" with no product and no SKU.

An imported order is ``completed`` (placed, paid and completed at its date),
source "import", ``external_id`` = order_id, number "IMP-" + order_id (or
"IMX-" + a hash when the id is longer than 28 characters), no shipping or
discount, one timeline row (created -> completed, note "imported", no
actor), no payment row, no stock movement, and no signals (points, tiers
and recommenders are not told about history). Each line also writes a
"purchase" event (ref = the order number, value = unit price, quantity) so
the behaviour log stays the single source profiles and recommenders read.

Validation is per order: if any row of an order is bad, the whole order is
skipped and every one of its rows reported (a partial order would later be
skipped as "already present" and never completed). Exact duplicate rows
within an order (same item, quantity, amount and date) count once.

Idempotency: an order whose ``external_id`` exists (imported before, or a demo
order with that id) is skipped whole, its rows counted as duplicates.

Streaming in two passes: the first reads only the order ids and notes the
line of each order's last row; the second parses rows (in a reader thread,
ahead of the writes) and writes an order as soon as its last row is read, in
transactions of about ``batch_size`` lines. Memory holds one entry per order
id plus the orders still open.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from browsing.importing import (
    CENT,
    IMPORT_BATCH,
    MAX_ERRORS_SHOWN,
    MAX_MONEY,
    BadRowCallback,
    CsvSource,
    ImportReport,
    MemberResolver,
    ParsedBatch,
    ProductResolver,
    ProgressCallback,
    RowError,
    RowInserter,
    TimestampParser,
    event_inserter,
    parse_external_id,
    parse_money,
    prefetch,
    values_by,
)
from browsing.models import Event
from orders.models import Order, OrderItem, OrderStatusChange

REQUIRED = ("customer", "order_id", "date", "quantity", "amount")
OPTIONAL = ("item",)
MAX_QUANTITY = 2_147_483_647  # PositiveIntegerField on PostgreSQL
NUMBER_MAX = 32  # Order.number
IMPORTED_ITEM_NAME = "Imported item"
# The timeline note of an imported order (a system note: ``orders.selectors.SYSTEM_NOTES``
# shows it translated once it lists it).
NOTE_IMPORTED = "imported"
ZERO = Decimal("0.00")
# The columns the import fills (the others take their defaults: no discount,
# shipping, refund, address, ...), in the order of the row tuples.
ORDER_COLUMNS = (
    "number", "user", "status", "source", "currency", "subtotal", "total", "external_id",
    "placed_at", "paid_at", "completed_at",
)  # fmt: skip
ITEM_COLUMNS = ("order", "product", "product_name", "sku", "unit_price", "quantity", "line_total")
CHANGE_COLUMNS = ("order", "from_status", "to_status", "note", "created_at")


def import_order_number(order_id: str) -> str:
    """The shop's number of an imported order: "IMP-<id>", or "IMX-<hash>" for long ids."""
    number = f"IMP-{order_id}"
    if len(number) <= NUMBER_MAX:
        return number
    return "IMX-" + hashlib.sha1(order_id.encode()).hexdigest()[: NUMBER_MAX - 4]


@dataclass(slots=True)
class _Line:
    line: int
    customer: str
    at: datetime
    quantity: int
    amount: Decimal
    item: str

    @property
    def unit_price(self) -> Decimal:
        return (self.amount / self.quantity).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class _Order:
    order_id: str
    lines: list[_Line] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)  # every row of the order
    keys: set = field(default_factory=set)

    def add(self, line: _Line) -> None:
        key = (line.item, line.quantity, line.amount, line.at)
        if key not in self.keys:  # an exact duplicate row counts once
            self.keys.add(key)
            self.lines.append(line)


def _parse_quantity(text: str) -> int:
    if not text:
        raise RowError("missing quantity")
    if not text.isdigit():
        raise RowError(f"quantity {text[:40]!r} is not a whole number >= 1")
    quantity = int(text)
    if quantity < 1:
        raise RowError("quantity must be at least 1")
    if quantity > MAX_QUANTITY:
        raise RowError(f"quantity {text[:40]!r} is too large")
    return quantity


def _parse_line(values: list[str], parse_time: TimestampParser, line: int) -> _Line:
    customer_text, _order_id, date_text, quantity_text, amount_text, item_text = values
    customer = parse_external_id(customer_text, "customer")
    at = parse_time(date_text, "date")
    quantity = _parse_quantity(quantity_text)
    if not amount_text:
        raise RowError("missing amount")
    amount = parse_money(amount_text, "amount")
    item = parse_external_id(item_text, "item") if item_text else ""
    return _Line(line, customer, at, quantity, amount, item)


def orders_import(
    *,
    path: str | Path,
    batch_size: int = IMPORT_BATCH,
    max_errors: int = MAX_ERRORS_SHOWN,
    progress: ProgressCallback | None = None,
    on_bad_row: BadRowCallback | None = None,
) -> ImportReport:
    """Import an order-history CSV (see the module docstring).

    Raises ``ImportFileError`` before writing anything when the file is
    missing, not UTF-8, empty or lacks a required column. Returns an
    ``ImportReport``: ``imported`` counts order lines written,
    ``orders_created`` orders; bad rows are counted (the first ``max_errors``
    with line and reason, every one passed to ``on_bad_row``) and skipped.
    """
    source = CsvSource(path, required=REQUIRED, optional=OPTIONAL)
    started = time.perf_counter()
    report = ImportReport(max_errors=max_errors)
    last_line: dict[str, int] = {}
    for line, values, _error in source:
        if values is not None and values[1]:
            last_line[values[1]] = line
    writer = _OrderWriter()

    def bad(line: int, reason: str) -> None:
        report.add_error(line, reason)
        if on_bad_row is not None:
            on_bad_row(line, reason)

    batches = _order_batches(source, last_line, TimestampParser(timezone.now()), batch_size)
    for batch in prefetch(batches):
        report.rows_read += batch.rows_read
        for line, reason in batch.bad:
            bad(line, reason)
        if batch.rows:
            writer.write(batch.rows, report, bad)
            if progress is not None:
                progress(report, time.perf_counter() - started)
    report.duplicates = report.rows_read - report.bad - report.imported
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(report, report.seconds)
    return report


def _order_batches(
    source: CsvSource, last_line: dict[str, int], parse_time: TimestampParser, batch_size: int
) -> Iterator[ParsedBatch]:
    """Parse the file into batches of complete, valid orders of about ``batch_size`` rows.

    An order is complete when its last row (``last_line``) is read. No database access.
    """
    open_orders: dict[str, _Order] = {}
    batch, batch_lines = ParsedBatch(), 0

    def finish(order: _Order) -> None:
        nonlocal batch_lines
        reason = _order_problem(order)
        if reason:
            bad_lines = dict(order.bad)
            batch.bad.extend((line, bad_lines.get(line, reason)) for line in order.row_lines)
        else:
            batch.rows.append(order)
            batch_lines += len(order.row_lines)

    for line, values, error in source:
        batch.rows_read += 1
        order_id = values[1] if values is not None else ""
        try:
            parse_external_id(order_id, "order_id")
        except RowError as exc:
            batch.bad.append((line, error or str(exc)))
            continue
        order = open_orders.get(order_id)
        if order is None:
            order = open_orders[order_id] = _Order(order_id)
        order.row_lines.append(line)
        if error:
            order.bad.append((line, error))
        else:
            try:
                order.add(_parse_line(values, parse_time, line))
            except RowError as exc:
                order.bad.append((line, str(exc)))
        if last_line.get(order_id, line) <= line:
            finish(open_orders.pop(order_id))
            if batch_lines >= batch_size:
                yield batch
                batch, batch_lines = ParsedBatch(), 0
    for order in list(open_orders.values()):  # only if the file changed between the passes
        finish(order)
    if batch.rows_read:
        yield batch


def _order_problem(order: _Order) -> str:
    """Why the order cannot be imported ("" when it can); its bad rows say why themselves."""
    if order.bad:
        lines = ", ".join(str(line) for line, _ in order.bad[:5])
        more = "..." if len(order.bad) > 5 else ""
        return f"order {order.order_id!r} not imported: bad row(s) on line {lines}{more}"
    customers = sorted({line.customer for line in order.lines})
    if len(customers) > 1:
        return f"order {order.order_id!r} names several customers ({', '.join(customers[:3])})"
    if sum(line.amount for line in order.lines) > MAX_MONEY:
        return f"order {order.order_id!r}: the amounts add up to more than {MAX_MONEY}"
    return ""


class _OrderWriter:
    """Writes complete orders in one transaction per call, with members, products and events.

    Rows go in as multi-row INSERTs of tuples (``RowInserter``): building and
    compiling a model instance per order, line and timeline row took three
    quarters of the time.
    """

    def __init__(self) -> None:
        self.members = MemberResolver()
        self.products = ProductResolver()
        self.currency = settings.SHOP_CURRENCY
        self._sql: tuple[RowInserter, ...] | None = None

    def write(self, orders: list[_Order], report: ImportReport, bad: BadRowCallback) -> None:
        for attempt in range(2):
            try:
                with transaction.atomic():
                    lines, created = self._write(orders, bad)
            except IntegrityError:
                # Another import wrote some of these orders meanwhile: roll back and
                # retry once; they are then skipped as already present.
                self.members.batch_forget()
                self.products.batch_forget()
                if attempt:
                    raise
                continue
            except BaseException:
                self.members.batch_forget()
                self.products.batch_forget()
                raise
            break
        self.members.batch_done()
        self.products.batch_done()
        report.imported += lines
        report.orders_created += created
        report.users_created = self.members.created
        report.products_created = self.products.created

    def _write(self, orders: list[_Order], bad: BadRowCallback) -> tuple[int, int]:
        present = {
            ext
            for (ext,) in values_by(
                Order, "external_id", [o.order_id for o in orders], "external_id"
            )
        }
        todo = [o for o in orders if o.order_id not in present]
        if not todo:
            return 0, 0
        first_seen: dict[str, datetime] = {}
        prices: dict[str, Decimal | None] = {}
        for order in todo:
            for line in order.lines:
                if line.customer not in first_seen or line.at < first_seen[line.customer]:
                    first_seen[line.customer] = line.at
                if line.item and not prices.get(line.item):
                    prices[line.item] = line.unit_price or None
        user_ids = self.members.resolve(first_seen)
        product_ids = self.products.resolve(prices) if prices else {}
        info = self.products.info

        rows = []
        for order in todo:
            customer = order.lines[0].customer
            items = [line.item for line in order.lines if line.item]
            if customer not in user_ids or any(item not in product_ids for item in items):
                for line in order.row_lines:
                    bad(line, f"order {order.order_id!r}: could not create its member or product")
                continue
            rows.append(order)

        if not rows:
            return 0, 0
        orders_sql, items_sql, changes_sql, events_sql = self._inserters()
        completed, source = Order.Status.COMPLETED.value, Order.Source.IMPORT.value
        placed = {}
        order_rows = []
        for order in rows:
            at = min(line.at for line in order.lines)
            when = placed[order.order_id] = orders_sql.adapt_time(at)
            total = sum((line.amount for line in order.lines), ZERO)
            order_rows.append(
                (
                    import_order_number(order.order_id), user_ids[order.lines[0].customer],
                    completed, source, self.currency, total, total, order.order_id,
                    when, when, when,
                )
            )  # fmt: skip
        orders_sql.insert(order_rows)
        order_ids = dict(values_by(Order, "external_id", list(placed), "external_id", "pk"))

        items, changes, events = [], [], []
        purchase, event_source = Event.Type.PURCHASE.value, Event.Source.IMPORT.value
        for order, (number, user_id, *_rest) in zip(rows, order_rows, strict=True):
            order_id, when = order_ids[order.order_id], placed[order.order_id]
            changes.append((order_id, "", completed, NOTE_IMPORTED, when))
            for line in order.lines:
                product = info.get(line.item) if line.item else None
                product_id = product.pk if product else None
                unit = line.unit_price
                items.append(
                    (
                        order_id, product_id,
                        product.name if product else IMPORTED_ITEM_NAME,
                        product.sku if product else "",
                        unit, line.quantity, line.amount,
                    )
                )  # fmt: skip
                events.append(
                    (
                        user_id, "", purchase, product_id, "", line.quantity, unit, number,
                        event_source, None, when,
                    )
                )  # fmt: skip
        items_sql.insert(items)
        changes_sql.insert(changes)
        events_sql.insert(events)
        return len(items), len(order_rows)

    def _inserters(self) -> tuple[RowInserter, RowInserter, RowInserter, RowInserter]:
        if self._sql is None:
            self._sql = (
                RowInserter(Order, ORDER_COLUMNS),
                RowInserter(OrderItem, ITEM_COLUMNS),
                RowInserter(OrderStatusChange, CHANGE_COLUMNS),
                event_inserter(),
            )
        return self._sql
