"""Benchmark ``score_members`` against BG/NBD + Gamma-Gamma and gradient boosting on RFM.

Data (from a seeded RNG): a CDNOW-like cohort — ``--customers`` (25,000) who make
their first purchase within the first 12 weeks, then buy by a buy-till-you-die
process with heterogeneity (BG/NBD rates and dropouts from CDNOW's fitted
parameters, two thirds Poisson buyers and one third more regular buyers, spend per
customer from Gamma-Gamma with a link to frequency). The calibration period is
``--calib-weeks`` (39) and the horizon ``--horizon-weeks`` (39 or longer).
``--source seed`` instead uses the demo shop's completed orders already in the
database (``seed_demo``), with the as-of date ``--horizon-weeks`` before the last one.

``--mode db`` (default): writes the CSV, loads it with the real ``import_orders``
(into the configured database, which should be a fresh migrated one), runs the real
``score_members --as-of --horizon-days`` and reads its CSV; the future orders are in
the database too (score_members must ignore them). ``--mode memory`` skips the
database (same model code, for quick iterations).

Prints, for our model and each baseline, AUC of p_return ("ordered again in the
horizon"), MAE of expected_orders and MAE of expected_spend, plus timings::

    createdb -h 127.0.0.1 -U postgres mm_scorebench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_scorebench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/membership_scoring.py
    dropdb -h 127.0.0.1 -U postgres mm_scorebench
"""

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "false")

START = datetime(1997, 1, 1, tzinfo=UTC)


def generate(customers: int, total_weeks: float, seed: int = 7, one_and_done: float = 0.0):
    """Rows (customer, order_id, day, quantity, amount) of a CDNOW-like cohort.

    ``one_and_done``: share of customers who never come back after the first order
    (a departure from BG/NBD, which lets nobody drop out before a repeat purchase).
    """
    rng = np.random.default_rng(seed)
    n = customers
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426  # CDNOW's BG/NBD fit (weeks)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    regular = rng.random(n) < 0.33  # gamma(3) inter-purchase times: more regular
    gg_p, gg_q, gg_g = 6.25, 3.74, 15.44
    nu = rng.gamma(gg_q, 1 / gg_g, n)
    # Frequent buyers spend a little less per order (a mild, realistic link).
    nu = nu * (1 + 0.3 * np.tanh(lam * 2))
    first = rng.uniform(0, 12, n)
    done = rng.random(n) < one_and_done
    rows = []
    t = first.copy()
    alive = np.ones(n, bool)
    order_no = 0
    k = 0
    while alive.any() and k < 400:
        idx = np.flatnonzero(alive)
        for i, when in zip(idx, t[idx], strict=True):
            order_no += 1
            # Keen buyers (high rate) buy more items per order: a signal BG/NBD ignores.
            quantity = 1 + rng.poisson(0.9 + 3 * np.tanh(6 * lam[i]))
            amount = rng.gamma(gg_p, 1 / nu[i])
            rows.append(
                (
                    i,
                    order_no,
                    when,
                    quantity,
                    round(float(amount) * (0.6 + 0.4 * quantity / 2.2), 2),
                )
            )
        dies = (rng.random(len(idx)) < p[idx]) | (done[idx] & (k == 0))
        gap = np.where(
            regular[idx],
            rng.gamma(3.0, 1 / (3 * lam[idx] + 1e-12)),
            rng.exponential(1 / (lam[idx] + 1e-12)),
        )
        t[idx] = t[idx] + gap
        alive[idx] = ~dies & (t[idx] < total_weeks)
        k += 1
    return rows


def write_csv(rows, path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customer", "order_id", "date", "quantity", "amount"])
        for customer, order_id, week, quantity, amount in rows:
            at = START + timedelta(days=float(week) * 7)
            writer.writerow(
                [
                    f"C{customer:05d}",
                    f"O{order_id}",
                    at.strftime("%Y-%m-%d"),
                    quantity,
                    f"{amount:.2f}",
                ]
            )


def truth(rows, as_of_day: float, horizon_days: float):
    from collections import defaultdict

    orders, spend = defaultdict(int), defaultdict(float)
    for customer, _o, week, _q, amount in rows:
        day = np.floor(week * 7)
        if as_of_day < day <= as_of_day + horizon_days:
            orders[f"C{customer:05d}"] += 1
            spend[f"C{customer:05d}"] += amount
    return orders, spend


def report(name, customers, p, o, s, t_orders, t_spend):
    y_any = np.array([t_orders.get(c, 0) > 0 for c in customers])
    y_o = np.array([t_orders.get(c, 0) for c in customers], float)
    y_s = np.array([t_spend.get(c, 0.0) for c in customers], float)
    from membership.prediction import auc, mae

    print(
        f"  {name:<22} AUC {auc(y_any, p):.4f}   MAE orders {mae(y_o, o):.4f}"
        f"   MAE spend {mae(y_s, s):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=25_000)
    parser.add_argument("--calib-weeks", type=float, default=39)
    parser.add_argument("--horizon-weeks", type=float, default=39)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--one-and-done", type=float, default=0.0, help="share who never return (not BG/NBD)"
    )
    parser.add_argument("--mode", choices=["db", "memory"], default="db")
    parser.add_argument("--source", choices=["synthetic", "seed"], default="synthetic")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from membership import prediction
    from membership.scoring import load_orders

    horizon_days = args.horizon_weeks * 7
    if args.source == "seed":
        rows = None
        full, index = load_orders(None)
        last = full.day.max()
        as_of_day = float(np.floor(last - horizon_days))
        as_of = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=as_of_day)).date()
    else:
        started = time.perf_counter()
        rows = generate(
            args.customers, args.calib_weeks + args.horizon_weeks, args.seed, args.one_and_done
        )
        as_of = (START + timedelta(days=args.calib_weeks * 7 - 1)).date()
        as_of_day = (
            datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
            - datetime(1970, 1, 1, tzinfo=UTC)
        ).days
        calib = sum(
            1
            for r in rows
            if np.floor(r[2] * 7) + (START - datetime(1970, 1, 1, tzinfo=UTC)).days <= as_of_day
        )
        print(
            f"synthetic: {args.customers:,} customers, {len(rows):,} orders "
            f"({calib:,} up to {as_of}), calibration {args.calib_weeks:g} weeks, "
            f"horizon {args.horizon_weeks:g} weeks ({time.perf_counter() - started:.1f}s)"
        )
    tmp = Path(tempfile.mkdtemp())
    if args.source == "synthetic":
        offset = (START - datetime(1970, 1, 1, tzinfo=UTC)).days
        shifted = [(c, o, w + offset / 7, q, a) for c, o, w, q, a in rows]
        t_orders, t_spend = truth(shifted, as_of_day, horizon_days)
        if args.mode == "db":
            path = tmp / "orders.csv"
            write_csv(rows, path)
            started = time.perf_counter()
            call_command("import_orders", str(path), stdout=io.StringIO())
            print(f"import_orders: {time.perf_counter() - started:.1f}s")
    else:
        t_orders, t_spend = {}, {}
        after = full.window(as_of_day + 1 - 1e-9, as_of_day + 1 + horizon_days)
        for m, amount in zip(after.member, after.amount, strict=True):
            key = index[m]
            t_orders[key] = t_orders.get(key, 0) + 1
            t_spend[key] = t_spend.get(key, 0.0) + float(amount)

    # Our model.
    if args.mode == "db" or args.source == "seed":
        out = tmp / "scores.csv"
        started = time.perf_counter()
        call_command(
            "score_members",
            as_of=str(as_of),
            horizon_days=int(horizon_days),
            output=str(out),
            stdout=io.StringIO(),
        )
        took = time.perf_counter() - started
        with out.open() as fh:
            scored = list(csv.DictReader(fh))
        customers = [row["customer"] for row in scored]
        ours = (
            np.array([float(r["p_return"]) for r in scored]),
            np.array([float(r["expected_orders"]) for r in scored]),
            np.array([float(r["expected_spend"]) for r in scored]),
        )
        orders, index = load_orders(as_of)
        print(f"score_members: {len(scored):,} members in {took:.1f}s (command end to end)")
        from membership.scoring import members_score

        _print_choice(members_score.last_result)
    else:
        orders, index = _memory_orders(rows, as_of_day)
        started = time.perf_counter()
        pred = prediction.predict(orders, as_of_day + 1, horizon_days)
        took = time.perf_counter() - started
        keep = pred.present
        customers = [index[i] for i in np.flatnonzero(keep)]
        ours = (pred.p_return[keep], pred.expected_orders[keep], pred.expected_spend[keep])
        print(f"predict: {keep.sum():,} members in {took:.1f}s")
        _print_choice(pred)
    cut = orders.day.max() if len(orders.day) else as_of_day
    cut = max(cut, as_of_day + 1)
    position = {c: i for i, c in enumerate(index)}
    members = np.array([position[c] for c in customers])
    print(f"metrics over {len(customers):,} members, horizon {horizon_days:g} days after {as_of}:")
    report("score_members", customers, *ours, t_orders, t_spend)
    started = time.perf_counter()
    p, o, s = prediction.baseline_bgnbd(orders, cut, horizon_days)
    report("BG/NBD + Gamma-Gamma", customers, p[members], o[members], s[members], t_orders, t_spend)
    # The same BG/NBD ranking members by expected orders or by P(alive) instead.
    report("  ranked by E[X(H)]", customers, o[members], o[members], s[members], t_orders, t_spend)
    alive = _p_alive(orders, cut)
    report(
        "  ranked by P(alive)", customers, alive[members], o[members], s[members], t_orders, t_spend
    )
    p, o, s = prediction.baseline_gbm_rfm(orders, cut, horizon_days)
    report("GBM on RFM", customers, p[members], o[members], s[members], t_orders, t_spend)
    p, o, s = prediction.baseline_gbm_rfm(orders, cut, horizon_days, loss="absolute_error")
    report(
        "  same, absolute loss", customers, p[members], o[members], s[members], t_orders, t_spend
    )
    zero = np.zeros(len(customers))
    report("all zeros", customers, zero, zero, zero, t_orders, t_spend)
    print(f"baselines: {time.perf_counter() - started:.1f}s")


def _p_alive(orders, cut):
    from membership import prediction

    f = prediction.features_at(orders, cut)
    bg, _gg = prediction.fit_models(f)
    return bg.p_alive(*(f[c].to_numpy(float) for c in ("x", "t_x", "T")))


def _print_choice(result) -> None:
    print(f"  window W {result.window_days:.0f} days; chosen {result.chosen}")
    for target, scores in result.validation.items():
        print(f"  validation {target}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))


def _memory_orders(rows, as_of_day):
    from membership.prediction import Orders

    offset = (START - datetime(1970, 1, 1, tzinfo=UTC)).days
    customers = sorted({f"C{r[0]:05d}" for r in rows})
    position = {c: i for i, c in enumerate(customers)}
    member, day, amount, quantity = [], [], [], []
    for c, _o, w, q, a in rows:
        d = np.floor(w * 7) + offset
        if d <= as_of_day:
            member.append(position[f"C{c:05d}"])
            day.append(d + 0.5)
            amount.append(a)
            quantity.append(q)
    orders = Orders(
        np.array(member), np.array(day), np.array(amount), len(customers), np.array(quantity, float)
    )
    return orders, customers


if __name__ == "__main__":
    main()
