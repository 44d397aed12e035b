"""The numerical core on small constructed data (no database)."""

import numpy as np
import pytest

from recommend.ml import metrics, pipeline
from recommend.ml.algorithms import FAMILIES, Context, build, fold_in_als
from recommend.ml.data import (
    PURCHASE,
    RATING,
    VIEW,
    Interactions,
    leave_last_out,
    pairs,
    profile,
)


def inter_of(rows, n_users=None, n_items=None):
    """rows: (user, item, kind, time[, value])"""
    users = np.array([r[0] for r in rows], dtype=np.int32)
    items = np.array([r[1] for r in rows], dtype=np.int32)
    kinds = np.array([r[2] for r in rows], dtype=np.int8)
    times = np.array([r[3] for r in rows], dtype=np.float64)
    values = np.array([r[4] if len(r) > 4 else np.nan for r in rows], dtype=np.float32)
    return Interactions(
        users,
        items,
        kinds,
        values,
        times,
        n_users or int(users.max()) + 1,
        n_items or int(items.max()) + 1,
    )


def two_groups(n_users=40, n_items=20, per_user=6, seed=0):
    """Users 0..n/2-1 use items 0..9, the others items 10..19, in random order."""
    rng = np.random.default_rng(seed)
    rows = []
    half = n_items // 2
    for u in range(n_users):
        base = 0 if u < n_users // 2 else half
        for t, i in enumerate(rng.choice(half, per_user, replace=False)):
            rows.append((u, base + int(i), VIEW, float(u * 100 + t)))
    return inter_of(rows, n_users, n_items)


# --- matrix building and weights -------------------------------------------------------------


def test_binary_pairs_count_each_user_item_once():
    inter = inter_of([(0, 1, VIEW, 1), (0, 1, VIEW, 2), (0, 1, PURCHASE, 3), (1, 0, VIEW, 1)])

    X = pairs(inter, "binary").matrix().toarray()

    assert X.tolist() == [[0, 1], [1, 0]]


def test_typed_pairs_weigh_events_by_kind_and_squash_repeats():
    inter = inter_of([(0, 0, VIEW, 1), (0, 1, PURCHASE, 2), (0, 1, VIEW, 3), (0, 2, RATING, 4, 5)])

    X = pairs(inter, "typed").matrix().toarray()[0]

    assert X[0] == pytest.approx(np.log2(2.0))  # one view
    assert X[1] == pytest.approx(np.log2(1 + 4 + 1))  # purchase + view
    assert X[2] == pytest.approx(np.log2(1 + 0.5 + 2.5))  # rating 5 -> 3
    assert X[1] > X[0]


def test_time_decay_halves_an_event_one_half_life_old():
    day = 86_400.0
    inter = inter_of([(0, 0, VIEW, 0.0), (0, 1, VIEW, 100 * day)])

    X = pairs(inter, "binary", decay=1.0).matrix().toarray()[0]

    assert X[1] == pytest.approx(1.0)
    assert X[0] == pytest.approx(0.5, rel=0.05)  # span is the whole 100 days


def test_profile_weights_a_users_own_latest_items_highest():
    inter = inter_of([(0, 0, VIEW, 1), (0, 1, VIEW, 2), (0, 2, VIEW, 3)])

    row = profile(pairs(inter), h=1.0).toarray()[0]

    assert row.tolist() == pytest.approx([0.25, 0.5, 1.0])


def test_leave_last_out_holds_out_each_users_latest_item_and_its_repeats():
    inter = inter_of(
        [(0, 0, VIEW, 1), (0, 1, VIEW, 2), (0, 1, PURCHASE, 3), (1, 2, VIEW, 5), (2, 0, VIEW, 1)],
        n_items=3,
    )
    inter.users[-1] = 2

    fit, users, targets = leave_last_out(inter)

    assert users.tolist() == [0]  # user 1 and 2 have a single item: not validated
    assert targets.tolist() == [1]
    assert set(zip(fit.users.tolist(), fit.items.tolist(), strict=True)) == {(0, 0), (1, 2), (2, 0)}


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_on_a_hand_computed_case():
    # user 0: target item 2 scored 0.5, one item above (0.9) -> rank 1
    # user 1: target item 0, eleven items above -> rank 11, a miss at 10 and a hit at 20
    # user 2: target item 1 first -> rank 0
    scores = np.full((3, 13), -np.inf, dtype=np.float32)
    scores[0, :4] = [0.9, 0.1, 0.5, 0.3]
    scores[1] = np.arange(13)[::-1] / 100.0
    scores[1, 0] = 0.005
    scores[1, 12] = 0.0
    scores[2, :3] = [0.2, 0.8, 0.1]
    ranks = metrics.target_ranks(scores, np.array([2, 0, 1]))

    assert ranks.tolist() == [1, 11, 0]
    assert metrics.hit_rate(ranks, 10) == pytest.approx(2 / 3)
    assert metrics.ndcg(ranks, 10) == pytest.approx((1 / np.log2(3) + 0 + 1) / 3)
    assert metrics.hit_rate(ranks, 20) == pytest.approx(1.0)


def test_ties_put_the_target_in_the_middle_of_its_tie():
    ranks = metrics.target_ranks(np.zeros((1, 21), dtype=np.float32), np.array([5]))

    assert ranks.tolist() == [10.0]


# --- models separate two taste groups -----------------------------------------------------------


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "pop"])
def test_each_model_recommends_from_the_users_own_group(family):
    inter = two_groups()
    ctx = Context(inter, pairs(inter), threads=1)
    params = {**pipeline.STARTS[family]}
    if family == "als":
        params.update(factors=2, iterations=15, regularization=0.1, alpha=2.0)  # two tastes
    model = build(family, params).fit(ctx)
    users = np.arange(inter.n_users)

    scores = pipeline.mask_seen(np.array(model.score(ctx, users)), ctx.X[users])
    top = metrics.top_k(scores, 3)

    in_group_a = top < 10
    assert in_group_a[:20].all() and not in_group_a[20:].any()


def test_popularity_ranks_the_most_used_item_first():
    inter = inter_of([(0, 3, VIEW, 1), (1, 3, VIEW, 2), (2, 3, VIEW, 3), (0, 1, VIEW, 4)], 4, 5)
    model = build("pop", {"window": 1.0}).fit(Context(inter, pairs(inter)))

    assert int(np.argmax(model.vector)) == 3


def test_als_fold_in_matches_the_trained_user_factors():
    inter = two_groups()
    ctx = Context(inter, pairs(inter), threads=1)
    model = build("als", {"factors": 8, "regularization": 0.05, "alpha": 5.0, "iterations": 20})
    model.fit(ctx)

    folded = fold_in_als(model.artefact(), ctx.X[3])

    trained = model.user_factors[3]
    cosine = folded @ trained / np.linalg.norm(folded) / np.linalg.norm(trained)
    assert cosine > 0.95


# --- the search --------------------------------------------------------------------------------


def test_search_records_trials_and_never_keeps_a_hybrid_worse_than_the_best_model():
    choice = pipeline.Search(two_groups(60, 20, 7), budget_seconds=5, threads=1).run()

    best = max(
        (m for name, m in choice.validation.items() if name != "hybrid"),
        key=metrics.objective,
    )
    assert choice.trials and choice.components
    hybrid = choice.validation.get("hybrid")
    if choice.hybrid:
        assert metrics.objective(hybrid["out_of_fold"]) > metrics.objective(best)
    else:
        assert len(choice.components) == 1


def test_fold_in_scores_rank_like_the_refitted_model():
    inter = two_groups()
    choice = pipeline.Choice(
        components=[
            {"family": "rp3beta", "params": pipeline.STARTS["rp3beta"], "data": ["binary", None],
             "weight": 1.0},
            {"family": "pop", "params": {"window": 1.0}, "data": ["binary", None], "weight": 0.2},
        ],
        hybrid=True,
    )  # fmt: skip
    fitted = pipeline.Fitted(inter, choice, threads=1)
    top, _scores = fitted.rank(np.array([5]), k=3)
    mine = inter.subset(inter.users == 5)
    mine.users[:] = 0

    folded = pipeline.fold_in_scores(fitted.artefact(), mine)

    assert set(np.argsort(-folded)[:3]) == set(top[0])


def test_similarities_computed_in_row_blocks_keep_their_shape(monkeypatch):
    from recommend.ml import algorithms

    monkeypatch.setattr(algorithms, "BLOCK_CELLS", 50)  # 2-3 rows per block
    inter = two_groups()
    ctx = Context(inter, pairs(inter), threads=1)

    rp3 = build("rp3beta", pipeline.STARTS["rp3beta"]).fit(ctx)
    ease = build("ease", {"lambda": 10.0}).fit(ctx)

    assert rp3.S.shape == (20, 20)
    assert algorithms.prune(ease.S, 5).shape == (20, 20)
    assert (algorithms.prune(ease.S, 5).getnnz(axis=1) <= 5).all()
