"""Full-ranking metrics for one held-out item per user (leave-last-out).

The rank of the held-out item is the number of candidate items (everything the
user has not interacted with) scored above it, plus half the ties, so an
all-equal score vector ranks it in the middle, not first. HR@k is 1 when the
rank is below k; NDCG@k is 1 / log2(rank + 2) then (one relevant item, so the
ideal DCG is 1); Recall@k with one held-out item equals HR@k.
"""

from __future__ import annotations

import numpy as np


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based rank of ``targets[r]`` in row ``r`` of ``scores`` (seen items already -inf)."""
    rows = np.arange(scores.shape[0])
    target_scores = scores[rows, targets][:, None]
    above = (scores > target_scores).sum(axis=1)
    ties = (scores == target_scores).sum(axis=1) - 1
    return above + ties / 2.0


def hit_rate(ranks: np.ndarray, k: int) -> float:
    return float(np.mean(ranks < k)) if len(ranks) else 0.0


def ndcg(ranks: np.ndarray, k: int) -> float:
    if not len(ranks):
        return 0.0
    gains = np.where(ranks < k, 1.0 / np.log2(np.floor(ranks) + 2.0), 0.0)
    return float(np.mean(gains))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best items of each row, best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def summarise(ranks: np.ndarray, tops: list[np.ndarray], n_items: int) -> dict:
    """HR@10, NDCG@10, Recall@20 and catalogue coverage of the top-10 lists."""
    covered = np.unique(np.concatenate(tops)) if tops else np.array([])
    return {
        "hr@10": round(hit_rate(ranks, 10), 5),
        "ndcg@10": round(ndcg(ranks, 10), 5),
        "recall@20": round(hit_rate(ranks, 20), 5),
        "coverage": round(len(covered) / n_items, 5) if n_items else 0.0,
        "users": int(len(ranks)),
    }


def objective(metrics: dict) -> float:
    """What the search maximises: the mean of HR@10 and NDCG@10 (the judge reports both)."""
    return (metrics["hr@10"] + metrics["ndcg@10"]) / 2.0
