"""Benchmark the storefront pages and catalogue API on a seeded shop: latency and queries.

Reads the configured database (``DATABASE_URL``, default the SQLite file), which
should hold a demo shop (``manage.py seed_demo``, any scale). Each page is
requested ``--repeat`` times in-process through Django's test client (no
network, no runserver), after one warm-up request; the cache is the configured
one (local memory without ``REDIS_URL``). For example::

    .venv/bin/python bench/storefront.py --repeat 30
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_bench .venv/bin/python bench/storefront.py

Prints one row a page: median and 95th-percentile milliseconds, and the number
of SQL queries of one request.
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
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Category, Product

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

    pages = [
        ("home", "/"),
        ("department", f"/c/{busiest}/"),
        ("department, price sort, page 3", f"/c/{busiest}/?sort=price_asc&page=3"),
        ("sub-category, in stock", f"/c/{leaf}/?in_stock=1"),
        ("product", product.get_absolute_url()),
        ("search (1 word)", f"/search/?q={word}"),
        ("search (2 words)", "/search/?q=portable+charger"),
        ("search (no match)", "/search/?q=zzzzqqq"),
        ("API products", "/api/v1/products/"),
        ("API products, filtered", f"/api/v1/products/?category={busiest}&ordering=-price"),
        ("API search", f"/api/v1/products/?q={word}"),
        ("API product", f"/api/v1/products/{product.pk}/"),
        ("API categories", "/api/v1/categories/"),
    ]

    client = Client()
    print(
        f"database {connection.vendor}, {products:,} active products, "
        f"cache {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, "
        f"{args.repeat} requests a page"
    )
    print(f"{'page':34} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, url in pages:
        client.get(url)  # warm-up: caches, connection
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        query_count = len(queries.captured_queries)  # read now: later requests reset the log
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
        print(
            f"{name:34} {response.status_code:>6} {statistics.median(timings):>8.1f} "
            f"{p95:>8.1f} {query_count:>8}"
        )


if __name__ == "__main__":
    main()
