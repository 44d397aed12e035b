"""Write the generated demo shop to the database, in bulk and idempotently.

``demo_shop_seed`` is the one entry point (``orders.demo.demo_seed``, which the
``seed_demo`` command and ``bench/seed_demo.py`` call, adds the orders through
its ``history_writers`` hook). Every row is matched by its natural key
before anything is created: categories and brands by slug (or name),
products by SKU, members by external id (or e-mail). Only what is missing is
created, and a member's profile, addresses, preferences and whole behaviour
history are written together with the member, in one transaction. Running it
again with the same seed and scale therefore adds nothing; a larger scale
tops up the missing products and members.

Passwords: every demo member gets the same hash of ``DEMO_PASSWORD``, computed
once, so that creating thousands of members does not run Argon2 thousands of
times. A superuser ``ADMIN_EMAIL`` / ``ADMIN_PASSWORD`` is created if missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils.text import slugify

from accounts.models import Address, Profile, User
from browsing.models import Event
from catalog.models import Brand, Category, Product
from catalog.selectors import category_tree_invalidate

from .generator import (
    DemoCategory,
    DemoConfig,
    DemoMember,
    DemoShop,
    build_catalogue,
    build_history,
    build_members,
    build_sales,
)

DEMO_PASSWORD = "demo-pass-2024"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-pass-2024"
BATCH_SIZE = 5_000
LOOKUP_CHUNK = 900  # stays under SQLite's 999 query parameters


@dataclass
class SeedResult:
    """What one seeding run did: rows created per table, and timings."""

    created: dict[str, int] = field(default_factory=dict)
    members_present: int = 0
    admin_created: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def nothing_created(self) -> bool:
        return not any(self.created.values()) and not self.admin_created


@dataclass
class WrittenShop:
    """What ``demo_shop_seed`` hands its ``history_writers``, inside its transaction.

    ``shop`` holds the members whose history the writers should store (the
    members created by this run, plus the present ones ``history_needed``
    asked for) with their events and orders; ``user_ids`` maps each of those
    members' external ids to the user's pk, ``product_ids`` every demo SKU to
    the product's pk.
    """

    shop: DemoShop
    user_ids: dict[str, int]
    product_ids: dict[str, int]
    new_members: set[str]
    batch_size: int
    log: Callable[[str], None]


# Writes more of the generated history (e.g. orders); returns rows created per table.
HistoryWriter = Callable[[WrittenShop], dict[str, int]]
# Given the demo members already present, the external ids of those whose
# history a HistoryWriter still has to write (e.g. orders missing).
HistoryNeeded = Callable[[list[DemoMember]], set[str]]


def demo_shop_seed(
    *,
    config: DemoConfig,
    batch_size: int = BATCH_SIZE,
    log: Callable[[str], None] | None = None,
    history_writers: Sequence[HistoryWriter] = (),
    history_needed: HistoryNeeded | None = None,
) -> SeedResult:
    """Generate the demo shop for ``config`` and write what is missing.

    Creates categories, brands, products, members (user + profile + addresses +
    declared favourite categories/brands) and, for each newly created member,
    their whole behaviour history as ``Event`` rows with source "seed". Members
    already present keep their rows untouched and get no new events. Also
    creates the demo superuser when missing. All in one transaction.

    Higher apps store the rest of the history through ``history_writers``
    (called in the same transaction with a ``WrittenShop``; the counts they
    return are added to ``created``), and may ask for the history of members
    already present with ``history_needed`` (their events are not written
    again). ``browsing`` itself knows nothing of orders.
    """
    say = log or (lambda _msg: None)
    result = SeedResult()
    t0 = time.perf_counter()
    catalogue = build_catalogue(config)
    members = build_members(config, catalogue)
    result.seconds["generate catalogue and members"] = time.perf_counter() - t0

    present = _existing_member_keys(members)
    missing = [m for m in members if m.external_id not in present]
    result.members_present = len(members) - len(missing)
    new_ids = {m.external_id for m in missing}
    wanted: set[str] = set()
    if history_needed is not None and history_writers and present:
        wanted = history_needed([m for m in members if m.external_id in present]) & present
    t1 = time.perf_counter()
    if new_ids or wanted:
        events, orders = build_history(config, catalogue, members, only_members=new_ids | wanted)
    else:
        events, orders = [], []
    result.seconds["generate history"] = time.perf_counter() - t1
    say(
        f"generated {len(events):,} events and {len(orders):,} orders for "
        f"{len(missing):,} new members ({result.members_present:,} already present"
        + (f", {len(wanted):,} of them missing some history)" if wanted else ")")
    )
    shop = DemoShop(
        config=config,
        categories=catalogue.categories,
        brands=catalogue.brands,
        products=catalogue.products,
        members=missing,
        sales=build_sales(config),
        events=[e for e in events if e.member in new_ids] if wanted else events,
        orders=[o for o in orders if o.member in new_ids] if wanted else orders,
    )
    t2 = time.perf_counter()
    with transaction.atomic():
        result.created, user_ids, product_ids = _write_shop(shop, batch_size, say)
        if history_writers and (user_ids or wanted):
            if wanted:
                user_ids = {
                    **user_ids,
                    **dict(_values_by(User, "external_id", wanted, "external_id", "pk")),
                }
            written = WrittenShop(
                shop=DemoShop(
                    config=config,
                    categories=shop.categories,
                    brands=shop.brands,
                    products=shop.products,
                    members=[m for m in members if m.external_id in user_ids],
                    sales=shop.sales,
                    events=events,
                    orders=orders,
                ),
                user_ids=user_ids,
                product_ids=product_ids,
                new_members=new_ids,
                batch_size=batch_size,
                log=say,
            )
            for writer in history_writers:
                for table, count in writer(written).items():
                    result.created[table] = result.created.get(table, 0) + count
        result.admin_created = _ensure_admin()
    if any(result.created.values()) and connection.vendor == "postgresql":
        # Fresh planner statistics after a bulk load: without them PostgreSQL
        # plans the catalogue search as a scan that evaluates the full-text
        # expression on every product (see bench/storefront.py).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    result.seconds["write"] = time.perf_counter() - t2
    result.seconds["total"] = time.perf_counter() - t0
    return result


def demo_shop_write(
    *, shop: DemoShop, batch_size: int = BATCH_SIZE, log: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Write ``shop`` (the caller owns the transaction); return rows created per table.

    ``shop.members`` should hold only members that are not in the database yet
    (``demo_shop_seed`` does that); members whose external id or e-mail exists
    are skipped, and so are their events.
    """
    return _write_shop(shop, batch_size, log or (lambda _msg: None))[0]


def _write_shop(
    shop: DemoShop, batch_size: int, say: Callable[[str], None]
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """``demo_shop_write``, also returning the new members' and every product's ids."""
    created: dict[str, int] = {}
    category_ids, created["categories"] = _write_categories(shop.categories)
    brand_ids, created["brands"] = _write_brands(shop, batch_size)
    product_ids, created["products"] = _write_products(shop, category_ids, brand_ids, batch_size)
    say(
        f"catalogue: +{created['categories']} categories, +{created['brands']} brands, "
        f"+{created['products']} products"
    )
    user_ids, counts = _write_members(shop.members, category_ids, brand_ids, batch_size)
    created.update(counts)
    say(f"members: +{created['members']:,} (with profiles and {created['addresses']:,} addresses)")
    created["events"] = _write_events(shop, user_ids, product_ids, batch_size, say)
    return created, user_ids, product_ids


# --- lookups ---------------------------------------------------------------------


def _chunks(values: list, size: int) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _values_by(model: type[models.Model], field_name: str, keys: Iterable[str], *columns: str):
    keys = list(keys)
    rows = []
    for chunk in _chunks(keys, LOOKUP_CHUNK):
        rows += model.objects.filter(**{f"{field_name}__in": chunk}).values_list(*columns)
    return rows


def _existing_member_keys(members: list[DemoMember]) -> set[str]:
    """External ids of demo members already in the database (by id or by e-mail)."""
    by_email = {m.email: m.external_id for m in members}
    present = {
        ext
        for (ext,) in _values_by(
            User, "external_id", [m.external_id for m in members], "external_id"
        )
    }
    present |= {
        by_email[email.lower()]
        for (email,) in _values_by(User, "email", list(by_email), "email")
        if email.lower() in by_email
    }
    return present


# --- catalogue --------------------------------------------------------------------


def _category_slug(category: DemoCategory) -> str:
    return slugify(category.name)


def _write_categories(categories: list[DemoCategory]) -> tuple[dict[str, int], int]:
    ids: dict[str, int] = {}
    created = 0
    for depth_parent in (False, True):  # departments first, then their leaves
        level = [c for c in categories if (c.parent_key is not None) == depth_parent]
        slugs = {c.key: _category_slug(c) for c in level}
        by_slug = dict(_values_by(Category, "slug", slugs.values(), "slug", "pk"))
        by_name = {
            (parent, name): pk
            for parent, name, pk in Category.objects.filter(
                name__in=[c.name for c in level]
            ).values_list("parent_id", "name", "pk")
        }
        new = []
        for c in level:
            parent_id = ids[c.parent_key] if c.parent_key else None
            pk = by_slug.get(slugs[c.key]) or by_name.get((parent_id, c.name))
            if pk:
                ids[c.key] = pk
                continue
            new.append(
                Category(
                    name=c.name,
                    name_zh_hans=c.name_zh,
                    slug=slugs[c.key],
                    parent_id=parent_id,
                    position=c.position,
                )
            )
        if new:
            Category.objects.bulk_create(new)
            created += len(new)
            by_slug = dict(_values_by(Category, "slug", slugs.values(), "slug", "pk"))
            for c in level:
                ids.setdefault(c.key, by_slug[slugs[c.key]])
    if created:
        category_tree_invalidate()
        transaction.on_commit(category_tree_invalidate)
    return ids, created


def _write_brands(shop: DemoShop, batch_size: int) -> tuple[dict[str, int], int]:
    slugs = {b.key: slugify(b.name) for b in shop.brands}
    by_slug = dict(_values_by(Brand, "slug", slugs.values(), "slug", "pk"))
    by_name = dict(_values_by(Brand, "name", [b.name for b in shop.brands], "name", "pk"))
    new = [
        Brand(name=b.name, slug=slugs[b.key], description=b.description)
        for b in shop.brands
        if slugs[b.key] not in by_slug and b.name not in by_name
    ]
    Brand.objects.bulk_create(new, batch_size=batch_size)
    by_slug = dict(_values_by(Brand, "slug", slugs.values(), "slug", "pk"))
    by_name = dict(_values_by(Brand, "name", [b.name for b in shop.brands], "name", "pk"))
    ids = {b.key: by_slug.get(slugs[b.key]) or by_name[b.name] for b in shop.brands}
    return ids, len(new)


def _write_products(
    shop: DemoShop, category_ids: dict[str, int], brand_ids: dict[str, int], batch_size: int
) -> tuple[dict[str, int], int]:
    skus = [p.sku for p in shop.products]
    existing = dict(_values_by(Product, "sku", skus, "sku", "pk"))
    taken_ext = {
        ext
        for (ext,) in _values_by(
            Product, "external_id", [p.external_id for p in shop.products], "external_id"
        )
    }
    new = [
        Product(
            sku=p.sku,
            external_id=p.external_id if p.external_id not in taken_ext else None,
            name=p.name,
            name_zh_hans=p.name_zh,
            slug=slugify(p.name)[:220] or "p",
            description=p.description,
            description_zh_hans=p.description_zh,
            category_id=category_ids[p.category_key],
            brand_id=brand_ids[p.brand_key],
            price=p.price,
            list_price=p.list_price,
            stock=p.stock,
            attributes=p.attributes,
        )
        for p in shop.products
        if p.sku not in existing
    ]
    Product.objects.bulk_create(new, batch_size=batch_size)
    if new:
        existing = dict(_values_by(Product, "sku", skus, "sku", "pk"))
    return existing, len(new)


# --- members ----------------------------------------------------------------------


def _write_members(
    members: list[DemoMember],
    category_ids: dict[str, int],
    brand_ids: dict[str, int],
    batch_size: int,
) -> tuple[dict[str, int], dict[str, int]]:
    present = _existing_member_keys(members)
    members = [m for m in members if m.external_id not in present]
    counts = {"members": 0, "profiles": 0, "addresses": 0, "preferences": 0}
    if not members:
        return {}, counts
    password = make_password(DEMO_PASSWORD)  # once, shared by every demo member
    User.objects.bulk_create(
        [
            User(
                email=m.email,
                external_id=m.external_id,
                password=password,
                date_joined=m.joined_at,
                email_verified_at=m.email_verified_at,
            )
            for m in members
        ],
        batch_size=batch_size,
    )
    user_ids = dict(
        _values_by(User, "external_id", [m.external_id for m in members], "external_id", "pk")
    )
    Profile.objects.bulk_create(
        [
            Profile(
                user_id=user_ids[m.external_id],
                display_name=m.display_name[:64],
                phone=m.phone,
                gender=m.gender,
                birthday=m.birthday,
                language=m.language,
                marketing_opt_in=m.marketing_opt_in,
                preferences_set_at=m.preferences_set_at,
            )
            for m in members
        ],
        batch_size=batch_size,
    )
    profile_ids = dict(_values_by(Profile, "user_id", list(user_ids.values()), "user_id", "pk"))
    addresses = [
        Address(
            user_id=user_ids[m.external_id],
            recipient_name=a.recipient_name[:64],
            phone=a.phone,
            country=a.country,
            province=a.province,
            city=a.city,
            district=a.district,
            line1=a.line1,
            postal_code=a.postal_code,
            is_default=a.is_default,
        )
        for m in members
        for a in m.addresses
    ]
    Address.objects.bulk_create(addresses, batch_size=batch_size)
    cat_through = Profile.favourite_categories.through
    brand_through = Profile.favourite_brands.through
    fav_cats = [
        cat_through(profile_id=profile_ids[user_ids[m.external_id]], category_id=category_ids[k])
        for m in members
        for k in m.favourite_category_keys
    ]
    fav_brands = [
        brand_through(profile_id=profile_ids[user_ids[m.external_id]], brand_id=brand_ids[k])
        for m in members
        for k in m.favourite_brand_keys
    ]
    cat_through.objects.bulk_create(fav_cats, batch_size=batch_size)
    brand_through.objects.bulk_create(fav_brands, batch_size=batch_size)
    counts.update(
        members=len(members),
        profiles=len(members),
        addresses=len(addresses),
        preferences=len(fav_cats) + len(fav_brands),
    )
    return user_ids, counts


def _ensure_admin() -> bool:
    if User.objects.filter(email__iexact=ADMIN_EMAIL).exists():
        return False
    User.objects.create_superuser(ADMIN_EMAIL, ADMIN_PASSWORD)
    return True


# --- behaviour --------------------------------------------------------------------


# The columns of an Event row the writer fills (client_event_id stays NULL).
EVENT_FIELDS = (
    "user", "session_key", "event_type", "product", "query", "quantity", "value", "ref",
    "source", "occurred_at",
)  # fmt: skip


def _write_events(
    shop: DemoShop,
    user_ids: dict[str, int],
    product_ids: dict[str, int],
    batch_size: int,
    say: Callable[[str], None],
) -> int:
    """Insert the events of the given members as multi-row INSERTs.

    Events are the one table with millions of rows, and building a model
    instance per row costs more than inserting it, so rows go in as tuples
    through Django's connection, with values adapted by the model fields (the
    same adaptation ``bulk_create`` applies; one code path for every backend).
    """
    fields = [Event._meta.get_field(name) for name in EVENT_FIELDS]
    value_field = Event._meta.get_field("value")
    time_field = Event._meta.get_field("occurred_at")
    ops = connection.ops
    per_statement = batch_size
    if connection.features.max_query_params:
        per_statement = min(per_statement, connection.features.max_query_params // len(fields))
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    insert = (
        f"INSERT INTO {ops.quote_name(Event._meta.db_table)} "
        f"({', '.join(ops.quote_name(f.column) for f in fields)}) VALUES "
    )
    seed = Event.Source.SEED.value
    times: dict = {}
    rows: list[tuple] = []
    written = 0
    with connection.cursor() as cursor:

        def flush() -> None:
            for chunk in _chunks(rows, per_statement):
                params = [value for row in chunk for value in row]
                cursor.execute(insert + ", ".join([one_row] * len(chunk)), params)

        for e in shop.events:
            user_id = user_ids.get(e.member)
            if user_id is None:
                continue
            at = times.get(e.occurred_at)
            if at is None:
                at = times[e.occurred_at] = time_field.get_db_prep_save(e.occurred_at, connection)
            rows.append(
                (
                    user_id,
                    e.session,
                    e.event_type,
                    product_ids[e.sku] if e.sku else None,
                    e.query,
                    e.quantity,
                    None if e.value is None else value_field.get_db_prep_save(e.value, connection),
                    e.ref,
                    seed,
                    at,
                )
            )
            if len(rows) >= batch_size:
                flush()
                written += len(rows)
                rows = []
                times.clear()
                if written % (batch_size * 40) == 0:
                    say(f"events: {written:,} written")
        if rows:
            flush()
            written += len(rows)
    return written


def default_end() -> date:
    """Today's date in UTC: the history ends just before it."""
    from django.utils import timezone

    return timezone.now().date()
