"""Fold-in freshness: seconds from a member's new events to a changed "for you" list.

A demo member who never looked at a department views three of its products
(real requests through Django's test client: the product page logs the view,
``browsing.signals.member_activity`` fires after commit, recommend's receiver
enqueues the coalesced fold-in task). We poll the member's stored list until it
changes and print the seconds, the old and new top-5 and how many of the new
top-10 come from that department.

    .venv/bin/python bench/reco_freshness.py          # eager Celery: the task runs in the request
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/reco_freshness.py --worker

With ``--worker`` a real ``celery -A config worker`` (2 processes) runs the task,
as in production; the coalescing delay (RECOMMEND_FOLD_IN_COALESCE_SECONDS,
2 s by default) is part of the measured time, so it is also printed with 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reco_shop import DEFAULT_DB, ensure  # noqa: E402


def measure(member_index: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from browsing.models import Event
    from catalog.models import Category, Product
    from recommend.models import MemberList

    members = list(User.objects.filter(external_id__isnull=False).order_by("pk")[:200])
    member = members[member_index % len(members)]
    seen_categories = set(
        Event.objects.filter(user=member, product__isnull=False).values_list(
            "product__category_id", flat=True
        )
    )
    category = (
        Category.objects.exclude(pk__in=seen_categories)
        .filter(products__is_active=True, products__stock__gt=0)
        .order_by("pk")
        .first()
    )
    products = list(
        Product.objects.filter(category=category, is_active=True, stock__gt=0).order_by("pk")[:3]
    )
    row = MemberList.objects.get(version__status="live", user=member)
    before = list(row.items)
    client = Client()
    client.force_login(member)
    client.get("/")  # warm up: first request of the process, artefact loaded
    started = time.perf_counter()
    for product in products:
        assert client.get(product.get_absolute_url()).status_code == 200
    requests_done = time.perf_counter() - started
    deadline = started + 60
    while time.perf_counter() < deadline:
        row.refresh_from_db()
        if row.items != before:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    changed = row.items != before
    in_category = Product.objects.filter(pk__in=row.items[:10], category=category).count()
    print(
        f"member {member.pk}: 3 views of '{category.name}' in {requests_done:.3f}s; "
        f"list {'changed' if changed else 'NOT changed'} after {elapsed:.3f}s "
        f"(coalesce delay {settings.RECOMMEND_FOLD_IN_COALESCE_SECONDS}s, "
        f"eager={settings.CELERY_TASK_ALWAYS_EAGER}); source {row.source}; "
        f"{in_category}/10 of the new top-10 from that department; "
        f"top-5 before {before[:5]} after {row.items[:5]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help="real Celery worker (REDIS_URL)")
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--inner", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        measure(args.inner)
        return
    env = ensure(DEFAULT_DB)
    worker = None
    runs = [("", "2")]
    if args.worker:
        if not os.environ.get("REDIS_URL"):
            sys.exit("--worker needs REDIS_URL")
        runs = [("", "2"), ("", "0")]
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker",
             "--concurrency", "2", "--loglevel", "WARNING", "-n", "reco-bench@localhost"],
            env=env, cwd=ROOT,
        )  # fmt: skip
        time.sleep(6)
    else:
        env = {**env, "REDIS_URL": ""}
    try:
        for _unused, delay in runs:
            for i in range(args.members):
                run_env = {**env, "RECOMMEND_FOLD_IN_COALESCE_SECONDS": delay}
                subprocess.run(
                    [sys.executable, __file__, "--inner", str(i * 37 + int(delay) * 11)],
                    env=run_env,
                    check=True,
                    cwd=ROOT,
                )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)


if __name__ == "__main__":
    main()
