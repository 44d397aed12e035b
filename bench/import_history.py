"""Benchmark ``import_events`` and ``import_orders`` on generated history files.

Generates, from a seeded RNG, a realistic behaviour-history CSV of ``--rows``
rows (default 1,000,000) and an order-history CSV of ``--order-lines`` lines
(default 200,000): many members with a log-normal activity (few heavy, many
light), items with a Zipf popularity (long tail), a year of timestamps written
half as ISO 8601 (with and without a zone) and half as Unix seconds. Then
imports both into the configured database (``DATABASE_URL``, default the
SQLite file), prints rows/s, imports both again and prints the re-import time
and the rows it added (must be 0). Use a fresh, migrated database::

    createdb -h 127.0.0.1 -U postgres mm_importbench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_importbench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/import_history.py
    dropdb -h 127.0.0.1 -U postgres mm_importbench
"""

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
# As in production: with DEBUG on, Django also keeps every statement's SQL.
os.environ.setdefault("DJANGO_DEBUG", "false")

EVENT_MIX = [
    ("view", 0.70),
    ("cart", 0.11),
    ("favorite", 0.06),
    ("purchase", 0.08),
    ("rating", 0.05),
]


def _items_and_prices(rng: np.random.Generator, n_items: int):
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.05
    popularity = rng.permutation(popularity)
    prices = np.round(np.exp(rng.normal(4.0, 1.0, n_items)), 1) + 0.9
    return popularity / popularity.sum(), prices


def _when(rng: np.random.Generator, n: int, end: datetime, days: int = 365) -> np.ndarray:
    return int(end.timestamp()) - rng.integers(60, days * 86_400, n)


def _stamp(ts: int, style: int) -> str:
    if style == 0:
        return str(ts)
    at = datetime.fromtimestamp(ts, UTC)
    if style == 1:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S+08:00")


def write_events_csv(path: Path, *, rows: int, users: int, items: int, seed: int, end) -> None:
    rng = np.random.default_rng([seed, 1])
    popularity, prices = _items_and_prices(rng, items)
    activity = rng.lognormal(0.0, 1.2, users)
    user_of = rng.choice(users, size=rows, p=activity / activity.sum())
    item_of = rng.choice(items, size=rows, p=popularity)
    kinds = rng.choice(len(EVENT_MIX), size=rows, p=[w for _, w in EVENT_MIX])
    stamps = _when(rng, rows, end)
    styles = rng.integers(0, 3, rows)
    ratings = rng.integers(1, 6, rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["user", "item", "event", "timestamp", "value"])
        for i in range(rows):
            kind = EVENT_MIX[kinds[i]][0]
            item = item_of[i]
            value = (
                f"{prices[item]:.2f}" if kind == "purchase" else
                str(ratings[i]) if kind == "rating" else ""
            )  # fmt: skip
            writer.writerow(
                [f"M{user_of[i]:07d}", f"P{item:06d}", kind, _stamp(int(stamps[i]), styles[i]),
                 value]
            )  # fmt: skip


def write_orders_csv(path: Path, *, lines: int, users: int, items: int, seed: int, end) -> None:
    rng = np.random.default_rng([seed, 2])
    popularity, prices = _items_and_prices(rng, items)
    activity = rng.lognormal(0.0, 1.0, users)
    written = 0
    order_no = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customer", "order_id", "date", "quantity", "amount", "item"])
        while written < lines:
            n = min(lines - written, 512)
            customers = rng.choice(users, size=n, p=activity / activity.sum())
            sizes = rng.geometric(0.55, n)
            stamps = _when(rng, n, end)
            picks = rng.choice(items, size=(n, 6), p=popularity)
            for customer, size, ts, row in zip(customers, sizes, stamps, picks, strict=True):
                order_no += 1
                chosen = list(dict.fromkeys(row[: min(int(size), 6)].tolist()))
                date = _stamp(int(ts), order_no % 3)
                for item in chosen:
                    quantity = 1 + int(rng.random() < 0.2) * int(rng.integers(1, 4))
                    writer.writerow(
                        [f"M{customer:07d}", f"SO{order_no:09d}", date, quantity,
                         f"{prices[item] * quantity:.2f}", f"P{item:06d}"]
                    )  # fmt: skip
                    written += 1
                    if written >= lines:
                        break
                if written >= lines:
                    break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="event rows (1,000,000)")
    parser.add_argument("--order-lines", type=int, default=200_000, help="order lines (200,000)")
    parser.add_argument("--users", type=int, help="members (default rows / 20)")
    parser.add_argument("--items", type=int, default=20_000, help="products (20,000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-size", type=int, help="rows per transaction (the default)")
    parser.add_argument("--dir", help="where to write the CSV files (default a temp folder)")
    args = parser.parse_args()
    users = args.users or max(args.rows // 20, 10)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from browsing.models import Event
    from catalog.models import Product
    from orders.models import Order, OrderItem

    print(
        f"import bench: {args.rows:,} event rows, {args.order_lines:,} order lines, "
        f"{users:,} members, {args.items:,} items, seed {args.seed}, "
        f"batch {args.batch_size or 'default'}"
    )
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus, "
        f"DEBUG={settings.DEBUG}"
    )
    end = datetime(2026, 5, 1, tzinfo=UTC)
    folder = Path(args.dir or tempfile.mkdtemp(prefix="import-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    events_csv, orders_csv = folder / "events.csv", folder / "orders.csv"
    started = time.perf_counter()
    write_events_csv(
        events_csv, rows=args.rows, users=users, items=args.items, seed=args.seed, end=end
    )
    write_orders_csv(
        orders_csv, lines=args.order_lines, users=users, items=args.items, seed=args.seed, end=end
    )
    print(
        f"generated {events_csv} ({events_csv.stat().st_size / 1e6:,.1f} MB) and {orders_csv} "
        f"({orders_csv.stat().st_size / 1e6:,.1f} MB) in {time.perf_counter() - started:.1f}s"
    )

    def counts() -> dict[str, int]:
        return {
            "events": Event.objects.count(),
            "orders": Order.objects.count(),
            "order items": OrderItem.objects.count(),
            "users": User.objects.count(),
            "products": Product.objects.count(),
        }

    def run(command: str, path: Path, rows: int) -> float:
        t0 = time.perf_counter()
        options = ["--batch-size", str(args.batch_size)] if args.batch_size else []
        call_command(command, str(path), "--no-progress", *options)
        seconds = time.perf_counter() - t0
        print(f"  {command}: {seconds:.1f}s, {rows / seconds:,.0f} rows/s")
        return seconds

    before = counts()
    print("first import:")
    run("import_events", events_csv, args.rows)
    run("import_orders", orders_csv, args.order_lines)
    after = counts()
    print("rows added: " + ", ".join(f"{k} {after[k] - before[k]:,}" for k in after))
    print("re-import of the same files:")
    run("import_events", events_csv, args.rows)
    run("import_orders", orders_csv, args.order_lines)
    again = counts()
    added = {k: again[k] - after[k] for k in again}
    print("rows added: " + ", ".join(f"{k} {v:,}" for k, v in added.items()))
    if any(added.values()):
        print("FAIL: the re-import added rows")
        sys.exit(1)
    if not args.dir:
        events_csv.unlink()
        orders_csv.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
