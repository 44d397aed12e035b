"""Serving under load: requests/s and p50/p99 of the recommendations endpoint beside a
trivial endpoint of the same app, in the same run.

Starts gunicorn (``--workers 2``, sync, DEBUG off) on 127.0.0.1 against the
benchmark shop (``reco_shop.ensure``: seed_demo small + a trained model), then
drives each endpoint with Debian's ``wrk`` (``apt-get install wrk``; 2 threads,
16 connections, 10 s each, a demo member's token) and prints wrk's figures:

* ``GET /api/v1/me/``: trivial (token lookup, one serializer);
* ``GET /api/v1/recommendations/?context=home&k=10``: the stored list, filters,
  fill, reasons and the served-list INSERT;
* ``GET /api/v1/products/{id}/similar/?k=10``: one product's similar items.

    .venv/bin/python bench/reco_serving.py [--duration 10] [--connections 16]
    .venv/bin/python bench/reco_serving.py --database-url postgres://postgres@127.0.0.1:5432/DB
      (DB migrated, ``seed_demo`` and ``train_recommender`` run on it beforehand)

Only loopback; each run is bounded by ``--duration``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from reco_shop import DEFAULT_DB, ensure  # noqa: E402

TOKEN_SCRIPT = """
from accounts.models import User
from rest_framework.authtoken.models import Token
from recommend.models import MemberList
row = MemberList.objects.filter(version__status="live").order_by("user_id").first()
token, _ = Token.objects.get_or_create(user_id=row.user_id)
print(token.key, row.items[0])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, token: str, duration: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
         "-H", f"Authorization: Token {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out).group(1)
    return {
        "rps": rps,
        "p50": lat.get("50"),
        "p99": lat.get("99"),
        "requests": int(total),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--database-url",
        help="an already seeded and trained database (e.g. PostgreSQL) instead of the SQLite one",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    env = {**ensure(DEFAULT_DB), "REDIS_URL": ""}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    token, product_id = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", TOKEN_SCRIPT],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.split()[-2:]  # fmt: skip
    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--log-level", "warning"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/api/v1/categories/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        endpoints = [
            ("trivial  GET me/", f"{base}/api/v1/me/"),
            ("for you  GET recommendations/?context=home&k=10",
             f"{base}/api/v1/recommendations/?context=home&k=10"),
            (f"similar  GET products/{product_id}/similar/?k=10",
             f"{base}/api/v1/products/{product_id}/similar/?k=10"),
        ]  # fmt: skip
        engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
        print(
            f"gunicorn 2 sync workers, {engine}, DEBUG off; wrk 2 threads, "
            f"{args.connections} connections, {args.duration}s each"
        )
        head = ("endpoint", "req/s", "p50", "p99", "requests", "non-2xx")
        print("{:52s} {:>8s} {:>9s} {:>9s} {:>9s} {:>8s}".format(*head))
        for name, url in endpoints:
            wrk(url, token, 2, 4)  # warm up both workers
            r = wrk(url, token, args.duration, args.connections)
            print(
                f"{name:52s} {r['rps']:8.1f} {r['p50']:>9s} {r['p99']:>9s} "
                f"{r['requests']:>9d} {r['errors']:>8d}"
            )
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)


if __name__ == "__main__":
    main()
