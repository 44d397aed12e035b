"""Benchmark promotions: the best-combination engine, cart pricing, concurrent redemption.

1. Engine (no database): ``promotions.rules.choose`` on a 10-line cart with 5 to
   40 competing promotions (a third exclusive, the rest stackable: the engine
   tries every subset of up to 10 stackable ones); median and p95 ms per cart.
2. Cart pricing through ``orders.cart.cart_view`` (database: the live promotions
   are loaded and the adjusters run) with 0 and 20 live promotions, a coupon and
   points: median ms and SQL queries per priced cart.
3. PostgreSQL only (real threads): ``--threads`` concurrent checkouts, each with
   its own coupon of a campaign limited to half of them and 100 points, then the
   same number racing for one single-use code; orders/s and checks (exactly the
   limit redeemed, exactly one order on the single code, balances = ledger sums).

Writes its own rows (members ``bench-promo-<run>-<i>@example.com``, products,
promotions); run it against a throwaway, migrated database::

    .venv/bin/python bench/promotions.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_bench \\
        .venv/bin/python bench/promotions.py --threads 50
"""

import argparse
import os
import statistics
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

D = Decimal


def _ms(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return f"median {statistics.median(samples) * 1000:7.2f} ms  p95 {p95 * 1000:7.2f} ms"


def bench_engine(repeat: int) -> None:
    import random

    from promotions import rules

    rng = random.Random(7)
    lines = [
        rules.Line(
            i + 1,
            rng.randint(1, 4),
            rng.randint(1, 3),
            D(rng.randint(500, 30000)) / 100,
            rng.randint(1, 3),
        )
        for i in range(10)
    ]
    print("1. engine: rules.choose on a 10-line cart")
    for n in (5, 10, 20, 40):
        found = []
        for i in range(n):
            kind = i % 3
            if kind == 0:
                benefit = rules.ThresholdBenefit(steps=((D(100 + 50 * i), D(10 + i)),))
            elif kind == 1:
                benefit = rules.PercentOff(percent=D(5 + i % 10))
            else:
                benefit = rules.BuyNGetM(buy=2, free=1)
            found.append(
                rules.Rule(
                    id=i + 1,
                    code=f"r{i}",
                    label=f"r{i}",
                    benefit=benefit,
                    scope=rules.Scope(category_ids=frozenset({i % 4 + 1}))
                    if i % 2
                    else rules.Scope(),
                    priority=i % 5,
                    exclusive=i % 3 == 2,
                )
            )
        samples = []
        for _r in range(repeat):
            start = time.perf_counter()
            choice = rules.choose(found, lines)
            samples.append(time.perf_counter() - start)
        print(
            f"   {n:3d} promotions: {_ms(samples)}"
            f"  (saves {choice.total}, {len(choice.applied)} applied)"
        )


def _product_kwargs(run: str) -> dict:
    """Category and brand of the new products: existing ones (factories' sequences restart
    in each process and would collide with an earlier run's rows)."""
    from catalog.models import Brand, Category
    from tests.factories import BrandFactory, CategoryFactory

    category = Category.objects.order_by("pk").first() or CategoryFactory(name=f"Bench {run}")
    brand = Brand.objects.order_by("pk").first() or BrandFactory(name=f"Bench {run}")
    return {"category": category, "brand": brand}


def bench_cart(repeat: int, run: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Category, Product
    from orders.cart import CartOwner, cart_add_item, cart_view
    from promotions.models import Promotion
    from tests.factories import CouponFactory, MemberFactory, ProductFactory, points_grant

    print("2. cart pricing: orders.cart.cart_view (10 lines, coupon and points)")
    member = MemberFactory(email=f"bench-promo-{run}-cart@example.com")
    points_grant(member, 5000)
    category = Category.objects.order_by("pk").first()
    for i in range(10):
        product = ProductFactory(
            sku=f"BP-{run}-{i}",
            name=f"Bench {run} {i}",
            price=D("35.50") + i,
            stock=500,
            **_product_kwargs(run),
        )
        if category is not None and i % 2:
            Product.objects.filter(pk=product.pk).update(category=category)
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=2)
    CouponFactory(code=f"BENCH{run}")
    options = {"coupon": f"BENCH{run}", "points": 1000}
    owner = CartOwner(user=member)
    for live in (0, 20):
        made = []
        for i in range(live):
            made.append(
                Promotion.objects.create(
                    code=f"bench-{run}-{i}",
                    name=f"Bench {i}",
                    kind=Promotion.Kind.THRESHOLD if i % 2 else Promotion.Kind.PERCENT_OFF,
                    tiers=[[str(100 + 20 * i), str(5 + i)]],
                    percent=D(3 + i % 5),
                    exclusive=i % 4 == 0,
                    priority=i % 3,
                )
            )
        cart_view(owner=owner, options=options)
        samples = []
        for _r in range(repeat):
            start = time.perf_counter()
            priced = cart_view(owner=owner, options=options).priced
            samples.append(time.perf_counter() - start)
        with CaptureQueriesContext(connection) as queries:
            cart_view(owner=owner, options=options)
        total = Promotion.objects.filter(is_active=True).count()
        print(
            f"   {total:3d} live promotions: {_ms(samples)}"
            f"  {len(queries.captured_queries)} queries"
            f"  (discounts {priced.discount_total}, {len(priced.discounts)} sources)"
        )
        Promotion.objects.filter(pk__in=[p.pk for p in made]).update(is_active=False)


def _race(functions):
    barrier = threading.Barrier(len(functions))
    results, errors = [], []
    from django.db import connection

    def worker(function):
        try:
            barrier.wait()
            results.append(function())
        except Exception as exc:  # counted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f,)) for f in functions]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors, time.perf_counter() - start


def bench_concurrency(threads: int, run: str) -> None:
    from django.db import connection

    from orders.cart import CartOwner, cart_add_item
    from orders.checkout import order_place
    from promotions.models import Coupon
    from promotions.selectors import points_balance, points_ledger_sum
    from tests.factories import (
        AddressFactory,
        CouponCampaignFactory,
        CouponFactory,
        MemberFactory,
        ProductFactory,
        points_grant,
    )

    if connection.vendor != "postgresql":
        print("3. concurrency: skipped (needs PostgreSQL: set DATABASE_URL=postgres://...)")
        return
    print(f"3. concurrency on PostgreSQL, {threads} threads")
    product = ProductFactory(
        sku=f"BPC-{run}",
        name=f"Bench race {run}",
        price=D("120.00"),
        stock=10 * threads,
        **_product_kwargs(run),
    )
    limit = threads // 2
    campaign = CouponCampaignFactory(name=f"bench {run}", total_limit=limit)
    buyers = []
    for i in range(threads):
        member = MemberFactory(email=f"bench-promo-{run}-{i}@example.com")
        address = AddressFactory(user=member)
        points_grant(member, 300)
        code = CouponFactory(campaign=campaign, owner=member, code=f"B{run}{i:04d}").code
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
        buyers.append((member, address, code))
    results, errors, seconds = _race(
        [
            lambda m=m, a=a, c=c: order_place(
                user=m, address_id=a.pk, options={"coupon": c, "points": 100}
            )
            for m, a, c in buyers
        ]
    )
    campaign.refresh_from_db()
    ok = campaign.used_count == limit == len(results)
    ok &= all(points_balance(user=m) == points_ledger_sum(user=m) >= 0 for m, _a, _c in buyers)
    print(
        f"   own coupons, campaign limit {limit}: {len(results)} orders, {len(errors)} refused "
        f"in {seconds:.2f} s ({threads / seconds:.0f} checkouts/s); "
        f"checks {'ok' if ok else 'FAILED'}"
    )

    single = CouponFactory(code=f"ONE{run}")
    for member, _a, _c in buyers:
        cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    results, errors, seconds = _race(
        [
            lambda m=m, a=a: order_place(user=m, address_id=a.pk, options={"coupon": single.code})
            for m, a, _c in buyers
        ]
    )
    used = Coupon.objects.get(pk=single.pk).used_count
    ok = len(results) == 1 == used
    print(
        f"   one single-use code: {len(results)} order, {len(errors)} refused in {seconds:.2f} s "
        f"({threads / seconds:.0f} checkouts/s); checks {'ok' if ok else 'FAILED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--threads", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    run = str(int(time.time()) % 100000)
    bench_engine(args.repeat)
    bench_cart(args.repeat, run)
    bench_concurrency(args.threads, run)


if __name__ == "__main__":
    main()
