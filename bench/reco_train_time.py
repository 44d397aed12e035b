"""Training time of the recommender at 100k, 1M and 5M generated interactions.

Runs the exact pipeline of ``train_recommender`` minus the database: the
hyperparameter search on the leave-last-out split (with its time budget), the
refit of the chosen model on all data, ranking the top-100 of every member and
the pruned similarity for "similar items". Data: ``reco_data.synthetic_arrays``
(members ~ n/20, products min(20k, n/25), topics, Zipf popularity, sessions).

    .venv/bin/python bench/reco_train_time.py                    # 100k, 1M, 5M
    .venv/bin/python bench/reco_train_time.py --sizes 100000 --budget 120

The search budget is ``--budget`` seconds (default 150, as in settings) for
100k and 1M; 5M runs with ``--budget-5m`` (default 120) and 1500 validation
members, which the output says.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reco_data import synthetic_arrays  # noqa: E402

from recommend.ml import pipeline  # noqa: E402
from recommend.ml.data import from_ids  # noqa: E402


def run(n: int, budget: float, val_users: int, threads: int) -> dict:
    started = time.perf_counter()
    inter, _users, _items = from_ids(*synthetic_arrays(n, seed=1))
    prep = time.perf_counter() - started
    t = time.perf_counter()
    choice = pipeline.Search(
        inter, budget_seconds=budget, max_val_users=val_users, threads=threads
    ).run()
    search = time.perf_counter() - t
    t = time.perf_counter()
    fitted = pipeline.Fitted(inter, choice, threads=threads)
    refit = time.perf_counter() - t
    t = time.perf_counter()
    lists = sum(len(users) for users, _top, _scores in fitted.rank_all(100))
    rank = time.perf_counter() - t
    t = time.perf_counter()
    if fitted.similarity_model is not None:
        fitted.similarity_model.similarity()
    similar = time.perf_counter() - t
    return {
        "events": len(inter),
        "members": inter.n_users,
        "products": inter.n_items,
        "trials": len(choice.trials),
        "chosen": " + ".join(f"{c['family']}x{c['weight']}" for c in choice.components),
        "prep": prep,
        "search": search,
        "refit": refit,
        "rank": rank,
        "similar": similar,
        "lists": lists,
        "total": search + refit + rank + similar,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--budget", type=float, default=150.0)
    parser.add_argument("--budget-5m", type=float, default=120.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"{'events':>9} {'members':>8} {'items':>6} {'budget':>6} {'trials':>6} "
          f"{'search':>7} {'refit':>6} {'rank':>6} {'simil':>6} {'total':>7}  chosen")  # fmt: skip
    for n in [int(x) for x in args.sizes.split(",")]:
        big = n >= 5_000_000
        budget = args.budget_5m if big else args.budget
        r = run(n, budget, 1500 if big else 3000, args.threads)
        print(
            f"{r['events']:>9} {r['members']:>8} {r['products']:>6} {budget:>6.0f} "
            f"{r['trials']:>6} {r['search']:>7.1f} {r['refit']:>6.1f} {r['rank']:>6.1f} "
            f"{r['similar']:>6.1f} {r['total']:>7.1f}  {r['chosen']}"
            + ("  (5M: reduced budget, 1500 validation members)" if big else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
