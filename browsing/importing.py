"""Import behaviour history from a CSV file (``manage.py import_events``).

Format: a header row, then ``user,item,event,timestamp[,value]`` (column
names in any case and order; other columns are ignored).

* ``event`` is one of view, favorite, cart, purchase, rating (any case), stored
  as the ``Event`` types view, favorite, cart_add, purchase, rating.
* ``timestamp`` is ISO 8601 (``2024-05-01T10:00:00+08:00``, ``...Z``, a space
  instead of ``T``, or a date alone, also in the basic form ``19970101``) or Unix
  epoch seconds (digits, optionally with a fraction). Eight digits that make a
  valid date from 1900 on are read as that date (``YYYYMMDD``, as in many order
  histories), never as seconds in 1970. A time without a zone is UTC.
* ``value``: the rating (1 to 5, required) of a rating, the unit price (>= 0,
  optional, rounded half-up to cents) of a purchase; ignored for the others.

Members (``User.external_id``) and products (``Product.external_id``) that do
not exist are created in bulk, active and purchasable (see ``MemberResolver``
and ``ProductResolver`` for the defaults).

Every row gets a deterministic id, ``"imp:"`` + the first 24 hex digits of the
SHA-1 of the normalised row (user, item, type, UTC time to the microsecond,
value, as stored), kept in ``Event.client_event_id``, which is unique per
member. Rows are inserted with ``INSERT ... ON CONFLICT DO NOTHING`` (``INSERT
OR IGNORE`` on SQLite), so re-importing a file adds nothing, and rows that are
exact duplicates of each other (also across files, and an epoch and an ISO
spelling of the same instant) count once.

The file is streamed: rows are validated one by one, and every ``batch_size``
valid rows (default ``IMPORT_BATCH``, 20,000) are written in one transaction
(members and products created, events inserted), so an interrupted import
keeps its finished batches and a re-run completes the rest. Bad rows are
reported with their line number and reason and the rest is kept.

The CSV reading, timestamp and money parsing and the member and product
resolvers here are also used by ``orders.importing`` (``import_orders``).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Profile, User
from browsing.models import Event
from catalog.models import Category, Product

BATCH_SIZE = 5_000  # most rows per INSERT statement
# Rows per transaction. Larger batches cost far less on SQLite, whose rollback
# journal copies every index page a transaction touches: 1M events took about
# 200 s in batches of 5,000 and 115 s in batches of 50,000 (bench/import_history.py);
# PostgreSQL is indifferent. An interrupted import loses at most one batch.
IMPORT_BATCH = 20_000
MAX_ERRORS_SHOWN = 20
LOOKUP_CHUNK = 900  # stays under SQLite's 999 query parameters
EXTERNAL_ID_MAX = 64  # User.external_id, Product.external_id, Order.external_id
IMPORT_EMAIL_DOMAIN = "import.invalid"  # reserved (RFC 2606): never delivers
DEFAULT_PRICE = Decimal("1.00")  # of a created product when the data has no price
DEFAULT_STOCK = 100  # of a created product
IMPORTED_CATEGORY_SLUG = "imported"
CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # timestamps later than now + this are refused

# The file's event names and the log's types.
EVENT_TYPES: dict[str, str] = {
    "view": Event.Type.VIEW.value,
    "favorite": Event.Type.FAVORITE.value,
    "cart": Event.Type.CART_ADD.value,
    "purchase": Event.Type.PURCHASE.value,
    "rating": Event.Type.RATING.value,
}
RATING_MIN, RATING_MAX = Decimal(1), Decimal(5)

_EPOCH_SECONDS = re.compile(r"-?\d+(?:\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_LOCAL = re.compile(r"[a-z0-9][a-z0-9_+-]*(?:\.[a-z0-9_+-]+)*")
_UNSAFE_LOCAL = re.compile(r"[^a-z0-9_+.-]+")


class ImportFileError(Exception):
    """The file cannot be imported at all (missing, not UTF-8, no header, missing column)."""


class RowError(ValueError):
    """One row is invalid; the message says why (shown with the line number)."""


# --- the result -------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did. ``errors`` holds the first ``max_errors`` bad rows in full."""

    rows_read: int = 0
    imported: int = 0
    duplicates: int = 0
    bad: int = 0
    users_created: int = 0
    products_created: int = 0
    orders_created: int = 0
    seconds: float = 0.0
    errors: list[tuple[int, str]] = field(default_factory=list)
    max_errors: int = MAX_ERRORS_SHOWN

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def add_error(self, line: int, reason: str) -> None:
        self.bad += 1
        if len(self.errors) < self.max_errors:
            self.errors.append((line, reason))


ProgressCallback = Callable[[ImportReport, float], None]
BadRowCallback = Callable[[int, str], None]


# --- reading the file ---------------------------------------------------------------------


def _check_readable_utf8(path: Path) -> None:
    """Raise ``ImportFileError`` unless ``path`` is a readable UTF-8 file (BOM allowed)."""
    if not path.is_file():
        raise ImportFileError(f"File not found: {path}")
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise ImportFileError(
                    f"{path} is UTF-16 text; save it as CSV in UTF-8 and import again."
                )
            fh.seek(0)
            while chunk := fh.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk.count(b"\n", 0, exc.start)
                    raise ImportFileError(
                        f"{path} is not UTF-8 text (line {line}: {exc.reason}); "
                        "save it as CSV in UTF-8 and import again."
                    )
                line += chunk.count(b"\n")
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"{path} is not UTF-8 text (line {line}: {exc.reason}); "
                    "save it as CSV in UTF-8 and import again."
                )
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}")


def _is_blank(row: list[str]) -> bool:
    return not row or all(not cell.strip() for cell in row)


class CsvSource:
    """A UTF-8 CSV file with a header row naming at least the ``required`` columns.

    Checked when created (``ImportFileError``). Iterating yields ``(line,
    values, error)`` for every non-blank data row: ``values`` are the stripped
    cells of ``required + optional`` in that order ("" for a cell the row
    lacks); ``error`` is "" or says why the row's shape is wrong (its values
    are then a best guess, or None when the row is unreadable). ``line`` is
    the file line where the row ends.
    """

    def __init__(self, path: str | Path, *, required: tuple[str, ...], optional: tuple[str, ...]):
        self.path = Path(path)
        self.required = required
        self.optional = optional
        _check_readable_utf8(self.path)
        with self._open() as fh:
            reader = csv.reader(fh)
            header = None
            for row in reader:
                if not _is_blank(row):
                    header = row
                    break
        if header is None:
            raise ImportFileError(
                f"{self.path} is empty: expected a header row "
                f"{','.join(required)}{''.join(f'[,{c}]' for c in optional)}."
            )
        names = [name.strip().lower() for name in header]
        position = {}
        for index, name in enumerate(names):
            position.setdefault(name, index)
        missing = [c for c in required if c not in position]
        if missing:
            raise ImportFileError(
                f"{self.path}: missing required column(s) {', '.join(missing)}; the header is "
                f"{','.join(names)!r}, expected {','.join(required)}"
                f"{''.join(f'[,{c}]' for c in optional)}."
            )
        self.header = names
        self.positions = [position[c] for c in required] + [position.get(c) for c in optional]
        self.has = {c: position.get(c) is not None for c in (*required, *optional)}

    def _open(self):
        return self.path.open(encoding="utf-8-sig", newline="")

    def __iter__(self) -> Iterator[tuple[int, list[str] | None, str]]:
        width = len(self.header)
        needed = max(p for p in self.positions[: len(self.required)]) + 1
        positions = self.positions
        with self._open() as fh:
            reader = csv.reader(fh)
            header_seen = False
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield reader.line_num, None, f"unreadable CSV row ({exc})"
                    continue
                if _is_blank(row):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                n = len(row)
                values = [row[p].strip() if p is not None and p < n else "" for p in positions]
                if n < needed:
                    yield reader.line_num, values, f"{n} field(s), expected {width}"
                elif n > width and any(cell.strip() for cell in row[width:]):
                    yield (
                        reader.line_num,
                        values,
                        f"{n} fields, the header has {width} (a comma in an unquoted value?)",
                    )
                else:
                    yield reader.line_num, values, ""


# --- parsing cells ------------------------------------------------------------------------


def parse_external_id(text: str, what: str) -> str:
    if not text:
        raise RowError(f"missing {what}")
    if len(text) > EXTERNAL_ID_MAX:
        raise RowError(f"{what} is {len(text)} characters long, at most {EXTERNAL_ID_MAX}")
    if not (text.isascii() and text.isprintable()) and _CONTROL.search(text):
        raise RowError(f"{what} contains control characters")
    return text


class TimestampParser:
    """Aware UTC datetimes from ISO 8601 (naive = UTC) or Unix epoch seconds.

    Eight digits that form a valid calendar date (``YYYYMMDD``, year 1900 or
    later) are ISO 8601's basic date, not seconds: epoch seconds with eight
    digits would be 1970-1973, older than any shop history. Refuses times before
    1970 and later than ``now`` + one day (which also catches epoch milliseconds
    given as seconds).
    """

    def __init__(self, now: datetime) -> None:
        self.latest = now + FUTURE_SLACK
        self.latest_seconds = int(self.latest.timestamp())

    def __call__(self, text: str, what: str = "timestamp") -> datetime:
        if not text:
            raise RowError(f"missing {what}")
        if len(text) == 8 and text.isdigit() and text[:2] in ("19", "20"):
            basic = self._basic_date(text)
            if basic is None:
                raise RowError(f"bad {what} {text!r} (YYYYMMDD, but not a calendar date)")
            return self._checked(basic, text, what)
        if text.isdigit() or _EPOCH_SECONDS.fullmatch(text):
            return self._epoch(text, what)
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise RowError(f"bad {what} {text[:40]!r} (expected ISO 8601 or Unix seconds)")
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        elif at.utcoffset():
            try:
                at = at.astimezone(UTC)
            except OverflowError:
                raise RowError(f"{what} {text[:40]!r} is out of range")
        else:
            at = at.replace(tzinfo=UTC)
        return self._checked(at, text, what)

    @staticmethod
    def _basic_date(text: str) -> datetime | None:
        try:
            return datetime(int(text[:4]), int(text[4:6]), int(text[6:]), tzinfo=UTC)
        except ValueError:
            return None

    def _checked(self, at: datetime, text: str, what: str) -> datetime:
        if at < EPOCH:
            raise RowError(f"{what} {text[:40]!r} is before 1970")
        if at > self.latest:
            raise RowError(f"{what} {text[:40]!r} is in the future")
        return at

    def _epoch(self, text: str, what: str) -> datetime:
        if text.isdigit():
            seconds, micro = int(text), 0
        else:
            number = Decimal(text)
            seconds = int(number)
            micro = int((number - seconds) * 1_000_000)
            if number < 0:
                seconds = -1
        if seconds < 0 or seconds > self.latest_seconds:
            raise RowError(
                f"{what} {text[:40]!r} is out of range as Unix seconds (milliseconds instead?)"
            )
        return EPOCH + timedelta(seconds=seconds, microseconds=micro)


def parse_timestamp(text: str, *, now: datetime, what: str = "timestamp") -> datetime:
    """One timestamp (see ``TimestampParser``; build one parser for many rows)."""
    return TimestampParser(now)(text, what)


def parse_decimal(text: str, what: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{what} {text[:40]!r} is not a number")
    if not number.is_finite():
        raise RowError(f"{what} {text[:40]!r} is not a number")
    return number


def parse_money(text: str, what: str) -> Decimal:
    """A non-negative amount, rounded half-up to cents, that fits Decimal(12, 2)."""
    amount = parse_decimal(text, what)
    if amount < 0:
        raise RowError(f"{what} {text[:40]!r} is negative")
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > MAX_MONEY:
        raise RowError(f"{what} {text[:40]!r} is too large")
    return amount


def db_time(at: datetime, zone=None) -> str:
    """An aware datetime as the database stores it: naive text in the connection's zone.

    Django keeps times in UTC (``USE_TZ``) and runs PostgreSQL sessions in UTC, so
    "YYYY-MM-DD HH:MM:SS[.ffffff]" is read the same by every backend, at a
    fraction of the cost of the field's own adaptation (millions of rows). It
    is also the normalised time in row ids: equal instants give equal text.
    """
    return at.astimezone(zone or connection.timezone).replace(tzinfo=None).isoformat(" ")


def row_id(*parts: object) -> str:
    """``imp:`` + 24 hex digits of the SHA-1 of the normalised row."""
    digest = hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()
    return f"imp:{digest[:24]}"


# --- members and products -------------------------------------------------------------------


def _chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def values_by(model: type[models.Model], field_name: str, keys: Iterable, *columns: str):
    rows = []
    for chunk in _chunks(list(keys)):
        rows += model.objects.filter(**{f"{field_name}__in": chunk}).values_list(*columns)
    return rows


def _short_hash(text: str, length: int) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:length]


def import_email(external_id: str, *, hashed: bool = False) -> str:
    """The placeholder address of an imported member: ``<id>@import.invalid``.

    Lower case and safe characters only; an id that is not already that (e.g.
    Chinese, or with spaces) keeps its safe part plus a hash of the id, so
    different ids never share an address. ``hashed`` forces the hash (used
    when the plain address is taken, e.g. by ids differing only in case).
    """
    local = external_id.lower()
    if hashed or not _SAFE_LOCAL.fullmatch(local):
        safe = _UNSAFE_LOCAL.sub("-", local).strip(".-")[:40].strip(".-")
        if safe:
            local = f"{safe}-{_short_hash(external_id, 12)}"
        else:
            local = f"m-{_short_hash(external_id, 16)}"
    return f"{local}@{IMPORT_EMAIL_DOMAIN}"


USER_COLUMNS = ("email", "external_id", "password", "is_active", "date_joined")
PRODUCT_COLUMNS = (
    "sku", "external_id", "name", "slug", "category", "price", "stock", "is_active",
)  # fmt: skip


class _Resolver:
    """External id -> primary key, cached for the whole import.

    Keys added in the current batch can be forgotten if its transaction rolls
    back (``batch_forget``), so the cache never holds rows that do not exist.
    """

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.created = 0
        self._added: list[str] = []
        self._created_in_batch = 0

    def batch_done(self) -> None:
        self._added.clear()
        self._created_in_batch = 0

    def batch_forget(self) -> None:
        for key in self._added:
            self.ids.pop(key, None)
        self.created -= self._created_in_batch
        self.batch_done()

    def _remember(self, pairs: Iterable[tuple[str, int]]) -> None:
        for key, pk in pairs:
            if key not in self.ids:
                self.ids[key] = pk
                self._added.append(key)


class MemberResolver(_Resolver):
    """Finds members by ``User.external_id`` and creates the missing ones in bulk.

    A created member is active, has an unusable password, a placeholder
    address on the reserved ``import.invalid`` domain (``import_email``), a
    ``Profile`` whose display name is the external id, and joined at the
    earliest time the batch that created them saw for them.
    """

    def __init__(self) -> None:
        super().__init__()
        # One unusable hash for the import: "!" + random, never matches a password.
        self._password = make_password(None)

    def resolve(self, wanted: dict[str, datetime]) -> dict[str, int]:
        missing = [ext for ext in wanted if ext not in self.ids]
        if not missing:
            return self.ids
        self._remember(values_by(User, "external_id", missing, "external_id", "pk"))
        new = [ext for ext in missing if ext not in self.ids]
        if not new:
            return self.ids
        emails = {ext: import_email(ext) for ext in new}
        taken = {e.lower() for (e,) in values_by(User, "email", emails.values(), "email")}
        seen: set[str] = set()
        for ext in new:
            if emails[ext] in taken or emails[ext] in seen:
                emails[ext] = import_email(ext, hashed=True)
            seen.add(emails[ext])
        zone = connection.timezone
        RowInserter(User, USER_COLUMNS, ignore_conflicts=True).insert(
            [(emails[ext], ext, self._password, True, db_time(wanted[ext], zone)) for ext in new]
        )
        created = dict(values_by(User, "external_id", new, "external_id", "pk"))
        RowInserter(Profile, ("user", "display_name"), ignore_conflicts=True).insert(
            [(pk, ext[:64]) for ext, pk in created.items()]
        )
        self._remember(created.items())
        self.created += len(created)
        self._created_in_batch += len(created)
        return self.ids


@dataclass(frozen=True, slots=True)
class ProductInfo:
    pk: int
    sku: str
    name: str


class ProductResolver(_Resolver):
    """Finds products by ``Product.external_id`` and creates the missing ones in bulk.

    A created product is active and purchasable: name "Item <external id>",
    SKU "IMP-<external id>" (a hash when that is too long or taken), category
    "Imported" (created once), price from the data (the first positive unit
    price seen for it; a later batch that knows a price sets it on a product
    this import created at the default) else ``DEFAULT_PRICE``, stock
    ``DEFAULT_STOCK``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.info: dict[str, ProductInfo] = {}
        self._category_id: int | None = None
        self._default_priced: set[int] = set()

    def batch_forget(self) -> None:
        for key in self._added:
            self.info.pop(key, None)
        self._category_id = None
        super().batch_forget()

    def _category(self) -> int:
        if self._category_id is None:
            category, _ = Category.objects.get_or_create(
                slug=IMPORTED_CATEGORY_SLUG,
                defaults={"name": "Imported", "name_zh_hans": "导入商品", "position": 999},
            )
            self._category_id = category.pk
        return self._category_id

    def _remember_info(self, rows) -> None:
        fresh = [(ext, pk, sku, name) for ext, pk, sku, name in rows if ext not in self.ids]
        self._remember((ext, pk) for ext, pk, _sku, _name in fresh)
        for ext, pk, sku, name in fresh:
            self.info[ext] = ProductInfo(pk, sku, name)

    def resolve(self, wanted: dict[str, Decimal | None]) -> dict[str, int]:
        """``wanted`` maps external ids to a unit price from the data (or None)."""
        missing = [ext for ext in wanted if ext not in self.ids]
        if missing:
            columns = ("external_id", "pk", "sku", "name")
            self._remember_info(values_by(Product, "external_id", missing, *columns))
            new = [ext for ext in missing if ext not in self.ids]
            if new:
                self._create(new, wanted)
        if self._default_priced:
            self._set_known_prices(wanted)
        return self.ids

    def _create(self, new: list[str], wanted: dict[str, Decimal | None]) -> None:
        skus = {
            ext: f"IMP-{ext}" if len(ext) <= 60 else f"IMP-{_short_hash(ext, 40)}" for ext in new
        }
        taken = {s for (s,) in values_by(Product, "sku", skus.values(), "sku")}
        for ext in new:
            if skus[ext] in taken:
                skus[ext] = f"IMPH-{_short_hash(ext, 40)}"
        category_id = self._category()
        rows = []
        for ext in new:
            name = f"Item {ext}"
            rows.append(
                (
                    skus[ext], ext, name, slugify(name, allow_unicode=True)[:220] or "item",
                    category_id, wanted.get(ext) or DEFAULT_PRICE, DEFAULT_STOCK, True,
                )
            )  # fmt: skip
        RowInserter(Product, PRODUCT_COLUMNS, ignore_conflicts=True).insert(rows)
        before = len(self.ids)
        columns = ("external_id", "pk", "sku", "name")
        self._remember_info(values_by(Product, "external_id", new, *columns))
        created = len(self.ids) - before
        self.created += created
        self._created_in_batch += created
        self._default_priced.update(
            self.ids[ext] for ext in new if ext in self.ids and not wanted.get(ext)
        )

    def _set_known_prices(self, wanted: dict[str, Decimal | None]) -> None:
        updates = {}
        for ext, price in wanted.items():
            pk = self.ids.get(ext)
            if price and pk in self._default_priced:
                updates[pk] = price
                self._default_priced.discard(pk)
        for pk, price in updates.items():
            Product.objects.filter(pk=pk).update(price=price)


# --- inserting rows ---------------------------------------------------------------------------


class RowInserter:
    """Multi-row INSERTs of plain tuples into one model's table.

    For tables that take millions of rows, building a model instance per row
    and compiling it costs more than inserting it. Rows are tuples of the
    ``columns`` (field names) in that order, holding database-ready values:
    times as ``db_time`` text (``adapt_time``), decimals as ``Decimal`` (both
    drivers adapt them), foreign keys as ids. Every other column gets its
    field's default (``auto_now`` ones the current time), computed once. With
    ``ignore_conflicts`` rows that violate a unique constraint are skipped
    (``ON CONFLICT DO NOTHING``; ``INSERT OR IGNORE`` on SQLite). ``insert``
    returns the number of rows inserted.
    """

    def __init__(
        self, model: type[models.Model], columns: Sequence[str], *, ignore_conflicts=False
    ):
        opts = model._meta
        fields = [opts.get_field(name) for name in columns]
        now = timezone.now()
        self.zone = connection.timezone
        constants = []
        for f in opts.concrete_fields:
            if f.primary_key or f in fields:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.has_default() or f.null or f.empty_strings_allowed:
                value = f.get_default()  # "" for text fields without a default
            elif f.has_db_default():
                continue
            else:
                raise ValueError(f"{opts.label}.{f.name} has no default: list it in columns")
            fields.append(f)
            constants.append(f.get_db_prep_save(value, connection))
        self.constants = tuple(constants)
        ops = connection.ops
        on_conflict = OnConflict.IGNORE if ignore_conflicts else None
        self.per_statement = BATCH_SIZE
        if connection.features.max_query_params:
            self.per_statement = min(
                self.per_statement, connection.features.max_query_params // len(fields)
            )
        self.head = (
            f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(opts.db_table)} "
            f"({', '.join(ops.quote_name(f.column) for f in fields)}) VALUES "
        )
        self.tail = ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or ""
        self.one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"

    def adapt_time(self, at: datetime) -> str:
        return db_time(at, self.zone)

    def insert(self, rows: list[tuple]) -> int:
        inserted = 0
        constants = self.constants
        with connection.cursor() as cursor:
            for chunk in _chunks(rows, self.per_statement):
                sql = self.head + ", ".join([self.one_row] * len(chunk))
                if self.tail:
                    sql += " " + self.tail
                cursor.execute(sql, [value for row in chunk for value in (*row, *constants)])
                inserted += max(cursor.rowcount, 0)
        return inserted


# The columns of an imported Event row.
EVENT_COLUMNS = (
    "user", "session_key", "event_type", "product", "query", "quantity", "value", "ref",
    "source", "client_event_id", "occurred_at",
)  # fmt: skip


def event_inserter() -> RowInserter:
    """Inserts ``EVENT_COLUMNS`` tuples into the log, skipping rows whose client id exists."""
    return RowInserter(Event, EVENT_COLUMNS, ignore_conflicts=True)


# --- the events import ------------------------------------------------------------------------


@dataclass(slots=True)
class _EventRow:
    line: int
    user: str
    item: str
    event_type: str
    at: datetime
    when: str  # ``at`` as stored
    value: Decimal | None
    client_id: str


def _parse_event(
    values: list[str], parse_time: TimestampParser, inserter: RowInserter
) -> _EventRow:
    user_text, item_text, event_text, time_text, value_text = values
    user = parse_external_id(user_text, "user")
    item = parse_external_id(item_text, "item")
    event_type = EVENT_TYPES.get(event_text.lower())
    if event_type is None:
        shown = event_text[:40] if event_text else ""
        raise RowError(f"unknown event {shown!r} (expected one of {', '.join(EVENT_TYPES)})")
    at = parse_time(time_text)
    value = None
    if event_type == Event.Type.RATING:
        if not value_text:
            raise RowError("a rating needs a value from 1 to 5")
        value = parse_decimal(value_text, "rating")
        if not RATING_MIN <= value <= RATING_MAX:
            raise RowError(f"rating {value_text[:40]!r} is not between 1 and 5")
        value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    elif event_type == Event.Type.PURCHASE and value_text:
        value = parse_money(value_text, "unit price")
    when = inserter.adapt_time(at)
    return _EventRow(
        line=0,
        user=user,
        item=item,
        event_type=event_type,
        at=at,
        when=when,
        value=value,
        client_id=row_id(user, item, event_type, when, "" if value is None else value),
    )


def events_import(
    *,
    path: str | Path,
    batch_size: int = IMPORT_BATCH,
    max_errors: int = MAX_ERRORS_SHOWN,
    progress: ProgressCallback | None = None,
    on_bad_row: BadRowCallback | None = None,
) -> ImportReport:
    """Import a behaviour-history CSV (see the module docstring) into ``browsing.Event``.

    Raises ``ImportFileError`` before writing anything when the file is
    missing, not UTF-8, empty or lacks a required column. Otherwise returns an
    ``ImportReport``; bad rows are counted there (the first ``max_errors``
    with line and reason, every one passed to ``on_bad_row``) and skipped.
    Each batch of ``batch_size`` valid rows is one transaction. Writes rows
    with source "import"; sends no signals.
    """
    source = CsvSource(path, required=("user", "item", "event", "timestamp"), optional=("value",))
    started = time.perf_counter()
    report = ImportReport(max_errors=max_errors)
    members, products = MemberResolver(), ProductResolver()
    inserter = event_inserter()

    def bad(line: int, reason: str) -> None:
        report.add_error(line, reason)
        if on_bad_row is not None:
            on_bad_row(line, reason)

    batches = _event_batches(source, TimestampParser(timezone.now()), inserter, batch_size)
    for batch in prefetch(batches):
        report.rows_read += batch.rows_read
        for line, reason in batch.bad:
            bad(line, reason)
        if not batch.rows:
            continue
        try:
            with transaction.atomic():
                report.imported += _write_events(batch.rows, members, products, inserter, bad)
        except BaseException:
            members.batch_forget()
            products.batch_forget()
            raise
        members.batch_done()
        products.batch_done()
        report.users_created, report.products_created = members.created, products.created
        if progress is not None:
            progress(report, time.perf_counter() - started)
    report.duplicates = report.rows_read - report.bad - report.imported
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(report, report.seconds)
    return report


@dataclass
class ParsedBatch:
    """What the reader hands the writer: rows read, the bad ones, the valid ones."""

    rows_read: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    rows: list = field(default_factory=list)


def _event_batches(
    source: CsvSource, parse_time: TimestampParser, inserter: RowInserter, batch_size: int
) -> Iterator[ParsedBatch]:
    """Parse the file into batches of ``batch_size`` valid rows (no database access)."""
    batch = ParsedBatch()
    for line, values, error in source:
        batch.rows_read += 1
        if error:
            batch.bad.append((line, error))
            continue
        try:
            row = _parse_event(values, parse_time, inserter)
        except RowError as exc:
            batch.bad.append((line, str(exc)))
            continue
        row.line = line
        batch.rows.append(row)
        if len(batch.rows) >= batch_size:
            yield batch
            batch = ParsedBatch()
    if batch.rows_read:
        yield batch


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def prefetch(items: Iterable, depth: int = 2) -> Iterator:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead.

    The import reads and parses the next batch while the database writes the
    current one: the drivers release the GIL while they wait for PostgreSQL
    or run SQLite, so on two cores parsing costs almost no wall time. The
    producer must not touch the database (connections are per thread). Its
    exceptions are raised here; leaving the loop early stops it.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            put(_Failed(exc))
            return
        put(_DONE)

    reader = threading.Thread(target=produce, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        reader.join(timeout=5)


def _write_events(
    rows: list[_EventRow],
    members: MemberResolver,
    products: ProductResolver,
    inserter: RowInserter,
    bad: BadRowCallback,
) -> int:
    """Create the batch's missing members and products, then insert its events."""
    first_seen: dict[str, datetime] = {}
    prices: dict[str, Decimal | None] = {}
    for row in rows:
        if row.user not in first_seen or row.at < first_seen[row.user]:
            first_seen[row.user] = row.at
        if row.event_type == Event.Type.PURCHASE and row.value and not prices.get(row.item):
            prices[row.item] = row.value
        else:
            prices.setdefault(row.item, None)
    user_ids = members.resolve(first_seen)
    product_ids = products.resolve(prices)
    source = Event.Source.IMPORT.value
    seen: set[str] = set()
    params = []
    for row in rows:
        if row.client_id in seen:
            continue  # an exact duplicate of a row of this batch: counted as a duplicate
        user_id, product_id = user_ids.get(row.user), product_ids.get(row.item)
        if user_id is None or product_id is None:
            bad(row.line, f"could not create {'member' if user_id is None else 'product'}")
            continue
        seen.add(row.client_id)
        params.append(
            (
                user_id,
                "",
                row.event_type,
                product_id,
                "",
                1,
                row.value,
                "",
                source,
                row.client_id,
                row.when,
            )
        )
    return inserter.insert(params)
