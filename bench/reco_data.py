"""Interaction data for the recommender benchmarks (no Django needed).

* ``demo_events(scale, members=None, seed=...)``: the demo shop generator's
  behaviour log (views, favourites, carts, purchases, ratings), as CSV rows
  ``user,item,event,timestamp[,value]``, the format of ``import_events``.
* ``synthetic_events(n, ...)``: a latent-taste model with Zipf popularity,
  sessions that drift through related items and optional ratings: fast to make
  at millions of rows.
* ``judge_split(rows)``: each user's latest interaction held out (the judge's protocol).
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

EVENTS = {"view": "view", "favorite": "favorite", "cart_add": "cart", "purchase": "purchase"}
EVENTS["rating"] = "rating"


def demo_events(scale: str = "small", *, members: int | None = None, seed: int = 7) -> list[tuple]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from browsing.demo.generator import DemoConfig, generate_shop

    end = date.today() - timedelta(days=1)
    shop = generate_shop(DemoConfig.for_scale(scale, seed=seed, end=end, members=members))
    rows = []
    for e in shop.events:
        if e.event_type not in EVENTS or not e.sku:
            continue
        value = ""
        if e.event_type == "rating" and e.value is not None:
            value = str(int(e.value))
        rows.append((e.member, e.sku, EVENTS[e.event_type], int(e.occurred_at.timestamp()), value))
    return rows


def synthetic_events(
    n: int, *, users: int | None = None, items: int | None = None, seed: int = 0, ratings=False
) -> list[tuple]:
    """``n`` interactions of ``users`` members over ``items`` products (defaults scale with n).

    Items sit in 50 topics; a member has 1-3 favourite topics, picks items by
    topic x Zipf popularity, and each next item is near the previous one
    (sessions), so both "taste" and "sequence" models have something to find.
    """
    rng = np.random.default_rng(seed)
    users = users or max(50, n // 20)
    items = items or max(100, min(20_000, n // 25))
    topics = 50
    item_topic = rng.integers(0, topics, items)
    pop = 1.0 / np.arange(1, items + 1) ** 0.9
    rng.shuffle(pop)
    by_topic = [np.flatnonzero(item_topic == t) for t in range(topics)]
    p_topic = [pop[ix] / pop[ix].sum() for ix in by_topic]
    lengths = np.maximum(1, rng.zipf(1.6, users))
    lengths = np.minimum(lengths, 500).astype(float)
    lengths = np.maximum(1, np.round(lengths * n / lengths.sum())).astype(int)
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    span = 300 * 86_400
    out = []
    kinds = np.array(["view", "view", "view", "cart", "favorite", "purchase"])
    for u in range(users):
        favs = rng.choice(topics, size=rng.integers(1, 4), replace=False)
        t = start + rng.random() * span * 0.7
        topic = rng.choice(favs)
        for _ in range(lengths[u]):
            if rng.random() < 0.25:
                topic = rng.choice(favs) if rng.random() < 0.85 else rng.integers(0, topics)
            ix = by_topic[topic]
            if len(ix) == 0:
                continue
            item = int(rng.choice(ix, p=p_topic[topic]))
            t += rng.exponential(86_400 * 3)
            if ratings:
                kind, value = "rating", str(int(np.clip(rng.normal(3.8, 1), 1, 5)))
            else:
                kind, value = str(rng.choice(kinds)), ""
            out.append((f"u{u}", f"i{item}", kind, int(min(t, start + span)), value))
    return out


def write_csv(rows, path: Path) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["user", "item", "event", "timestamp", "value"])
        writer.writerows(rows)
    return path


def judge_split(rows: list[tuple]) -> tuple[list[tuple], dict[str, str]]:
    """(training rows, {user: held-out item}): each user's latest row held out, and
    the user's other rows of that item too (a (user, item) pair is one interaction)."""
    last: dict[str, tuple[int, int]] = {}
    for index, row in enumerate(rows):
        key = (row[3], index)
        if row[0] not in last or key >= last[row[0]]:
            last[row[0]] = key
    held = {u: rows[index][1] for u, (_, index) in last.items()}
    train = [r for r in rows if held.get(r[0]) != r[1]]
    users_left = {r[0] for r in train}
    held = {u: i for u, i in held.items() if u in users_left}
    return train, held


def to_arrays(rows):
    """Rows -> (users, items, kinds, values, times) arrays for recommend.ml.data.from_ids."""
    from recommend.ml.data import KIND_CODES

    names = {"cart": "cart_add"}
    users = np.array([r[0] for r in rows])
    items = np.array([r[1] for r in rows])
    kinds = np.array([KIND_CODES[names.get(r[2], r[2])] for r in rows], dtype=np.int8)
    values = np.array([float(r[4]) if r[4] != "" else np.nan for r in rows], dtype=np.float32)
    times = np.array([r[3] for r in rows], dtype=np.float64)
    return users, items, kinds, values, times


def synthetic_arrays(n: int, *, seed: int = 0, items: int | None = None, users: int | None = None):
    """``synthetic_events`` vectorised, straight to arrays (for millions of rows).

    Returns (users, items, kinds, values, times) with integer ids. Each user has
    three topics (weights 0.6 / 0.3 / 0.1); an event's topic is one of them, its
    item a Zipf draw inside the topic; 30% of events repeat the user's previous
    topic's neighbourhood (the next item id in the topic), so order carries signal.
    """
    from recommend.ml.data import KIND_CODES

    rng = np.random.default_rng(seed)
    n_users = users or max(50, n // 20)
    n_items = items or max(100, min(20_000, n // 25))
    topics = 50
    item_topic = rng.integers(0, topics, n_items)
    order = np.argsort(item_topic, kind="stable")
    starts = np.searchsorted(item_topic[order], np.arange(topics))
    sizes = np.bincount(item_topic, minlength=topics)
    lengths = np.minimum(np.maximum(1, rng.zipf(1.6, n_users)), 500).astype(float)
    lengths = np.maximum(1, np.round(lengths * n / lengths.sum())).astype(np.int64)
    user = np.repeat(np.arange(n_users), lengths)
    m = len(user)
    favs = rng.integers(0, topics, (n_users, 3))
    pick = rng.choice(3, m, p=[0.6, 0.3, 0.1])
    topic = favs[user, pick]
    topic = np.where(rng.random(m) < 0.05, rng.integers(0, topics, m), topic)
    size = np.maximum(sizes[topic], 1)
    rank = np.minimum(rng.zipf(1.3, m) - 1, size - 1)
    item = order[np.minimum(starts[topic] + rank, n_items - 1)]
    # sessions: 30% of events follow the previous item of the same user
    follow = (rng.random(m) < 0.3) & np.r_[False, user[1:] == user[:-1]]
    prev = np.r_[item[:1], item[:-1]]
    item = np.where(follow, (prev + 1) % n_items, item)
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    t0 = start + rng.random(n_users) * 200 * 86_400
    gaps = rng.exponential(86_400 * 2, m)
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    cum = np.cumsum(gaps)
    times = t0[user] + cum - np.repeat(cum[first], lengths)
    names = ("view", "view", "view", "cart_add", "favorite", "purchase")
    kinds_pool = np.array([KIND_CODES[k] for k in names], dtype=np.int8)
    kinds = kinds_pool[rng.integers(0, len(kinds_pool), m)]
    values = np.full(m, np.nan, dtype=np.float32)
    return user, item.astype(np.int64), kinds, values, times
