"""Benchmark the storefront pages and catalogue API on a seeded shop: latency and queries.

Reads the configured database (``DATABASE_URL``, default the SQLite file), which
should hold a demo shop (``manage.py seed_demo``, any scale). Each page is
requested ``--repeat`` times in-process through Django's test client (no
network, no runserver), after one warm-up request; the cache is the configured
one (local memory without ``REDIS_URL``). For example::

    .venv/bin/python bench/storefront.py --repeat 30
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_bench .venv/bin/python bench/storefront.py

Prints one row a page: median and 95th-percentile milliseconds, and the number
of SQL queries of one request. Product pages and searches write the behaviour
log (browsing.services): the product page is measured for a visitor and a
member (their repeated view is one collapsed UPDATE) and as a HEAD request,
which renders the same page without logging, so the difference is the cost of
logging. Then the logging call itself: a first view (UPDATE touching nothing,
then INSERT) and a repeated view (one UPDATE), in a transaction rolled back.
The events the page requests wrote are deleted at the end.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from browsing import services
    from browsing.models import Event
    from catalog.models import Category, Product
    from orders.cart import CartOwner, cart_add_item
    from orders.models import CartItem
    from recommend.models import ServedList

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    products = Product.objects.filter(is_active=True).count()
    if not products:
        sys.exit("No products: run `manage.py seed_demo` on this database first.")
    busiest = (
        Category.objects.filter(parent__isnull=True)
        .order_by("position", "name")
        .values_list("slug", flat=True)
        .first()
    )
    leaf = (
        Category.objects.filter(parent__isnull=False)
        .order_by("position", "name")
        .values_list("slug", flat=True)
        .first()
    )
    product = Product.objects.filter(is_active=True).order_by("pk").first()
    word = product.name.split()[0]

    started = timezone.now()
    member = User.objects.filter(is_active=True, is_staff=False).order_by("pk").first()
    member_client = Client()
    if member is not None:
        member_client.force_login(member)

    pages = [
        ("home", "/"),
        ("department", f"/c/{busiest}/"),
        ("department, price sort, page 3", f"/c/{busiest}/?sort=price_asc&page=3"),
        ("sub-category, in stock", f"/c/{leaf}/?in_stock=1"),
        ("product (visitor, view logged)", product.get_absolute_url()),
        ("product (HEAD, not logged)", ("HEAD", product.get_absolute_url())),
        ("search (1 word)", f"/search/?q={word}"),
        ("search (2 words)", "/search/?q=portable+charger"),
        ("search (no match)", "/search/?q=zzzzqqq"),
        ("API products", "/api/v1/products/"),
        ("API products, filtered", f"/api/v1/products/?category={busiest}&ordering=-price"),
        ("API search", f"/api/v1/products/?q={word}"),
        ("API product", f"/api/v1/products/{product.pk}/"),
        ("API categories", "/api/v1/categories/"),
    ]
    added_line = None
    if member is not None:
        pages.insert(6, ("product (member, view logged)", ("MEMBER", product.get_absolute_url())))
        # the member pages: pricing with tier and promotions, recommend's strips
        pages[1:1] = [
            ("home (member, for you)", ("MEMBER", "/")),
            ("cart (member)", ("MEMBER", "/cart/")),
            ("API cart (member)", ("MEMBER", "/api/v1/cart/")),
        ]
        if not CartItem.objects.filter(cart__user=member).exists():
            added_line = cart_add_item(
                owner=CartOwner(user=member), product_id=product.pk, quantity=1
            )

    client = Client()
    print(
        f"database {connection.vendor}, {products:,} active products, "
        f"cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, "
        f"{args.repeat} requests a page"
    )
    print(f"{'page':34} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, target in pages:
        request = client.get
        url = target
        if isinstance(target, tuple):
            how, url = target
            request = client.head if how == "HEAD" else member_client.get
        request(url)  # warm-up: caches, connection, session
        with CaptureQueriesContext(connection) as queries:
            response = request(url)
        query_count = len(queries.captured_queries)  # read now: later requests reset the log
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            request(url)
            timings.append((time.perf_counter() - start) * 1000)
        print(
            f"{name:34} {response.status_code:>6} {_p50(timings):>8.1f} "
            f"{_p95(timings):>8.1f} {query_count:>8}"
        )

    # The logging call on its own, rolled back so that the shop keeps no trace.
    with transaction.atomic():
        first, repeated = [], []
        for i in range(args.repeat):
            start = time.perf_counter()
            services.product_view_record(visitor=f"bench-{i}", product_id=product.pk)
            first.append((time.perf_counter() - start) * 1000)
        for _ in range(args.repeat):
            start = time.perf_counter()
            services.product_view_record(visitor="bench-0", product_id=product.pk)
            repeated.append((time.perf_counter() - start) * 1000)
        transaction.set_rollback(True)
    # recommend's impression log, one ServedList row per served list, as a request writes it
    # (autocommit): a plain INSERT (what recommend does for one list) beside bulk_create,
    # which wraps its INSERT in BEGIN/COMMIT (what it does for a product page's two lists)
    served, bulk = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        ServedList(user=member, context="home", items=list(range(1, 11))).save(force_insert=True)
        served.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        ServedList.objects.bulk_create(
            [ServedList(user=member, context="home", items=list(range(1, 11)))]
        )
        bulk.append((time.perf_counter() - start) * 1000)
    for name, timings, queries in (
        ("log a view: first (UPDATE, INSERT)", first, 2),
        ("log a view: repeated (UPDATE)", repeated, 1),
        ("log a served list (INSERT)", served, 1),
        ("  the same with bulk_create", bulk, 3),
    ):
        print(f"{name:34} {'':>6} {_p50(timings):>8.2f} {_p95(timings):>8.2f} {queries:>8}")

    # Delete what the page requests logged (the visitor's and the member's events).
    visitor = client.session.get(services.VISITOR_SESSION_KEY, "")
    written = Q(user__isnull=True, session_key=visitor) if visitor else Q(pk__in=[])
    if member is not None:
        written |= Q(user=member)
    Event.objects.filter(written, occurred_at__gte=started).delete()
    ServedList.objects.filter(created_at__gte=started).delete()  # recommend's impressions
    if added_line is not None:
        added_line.delete()


def _p50(timings: list[float]) -> float:
    return statistics.median(timings)


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


if __name__ == "__main__":
    main()
