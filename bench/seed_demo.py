"""Benchmark ``seed_demo``: generate and write the demo shop at a scale, print counts and timings.

Writes to the configured database (``DATABASE_URL``, default the SQLite file),
which should be freshly migrated: demo rows already present are skipped, and a
run that writes nothing measures nothing. For example::

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/seed_demo.py --scale large

Prints: the configuration, rows written per table, and the seconds and
events per second of each phase (generate catalogue and members, generate the
history, write).
"""

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--members", type=int)
    parser.add_argument("--products", type=int)
    parser.add_argument("--months", type=int)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 1))
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from accounts.models import User
    from browsing.demo.generator import DemoConfig
    from browsing.models import Event
    from orders.demo import demo_seed

    config = DemoConfig.for_scale(
        args.scale,
        seed=args.seed,
        end=args.end,
        members=args.members,
        products=args.products,
        months=args.months,
    )
    print(
        f"seed_demo bench: scale={args.scale} seed={config.seed} members={config.members:,} "
        f"products={config.products:,} months={config.months} end={config.end}"
    )
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus"
    )
    started = time.perf_counter()
    result = demo_seed(config=config, log=lambda msg: print(f"  {msg}", flush=True))
    wall = time.perf_counter() - started

    events = result.created.get("events", 0)
    if not events:
        print("nothing was written: the database already holds this demo shop (use a fresh one)")
    print("rows written:")
    for table, count in result.created.items():
        print(f"  {table:<12} {count:>12,}")
    print("timings:")
    for phase, seconds in result.seconds.items():
        rate = f"{events / seconds:>12,.0f} events/s" if events and seconds else ""
        print(f"  {phase:<32} {seconds:>8.1f}s {rate}")
    print(
        f"wall clock {wall:.1f}s; database now holds {Event.objects.count():,} events and "
        f"{User.objects.count():,} users"
    )


if __name__ == "__main__":
    main()
