"""Segments (用户分群): RFM segments with readable names and K-means behaviour clusters.

RFM
---
Among members with at least one order: R, F and M scores 1-5 are the quintiles of
recency (more recent = higher), order count and spend (ties share their average
rank, so equal members always get equal scores). Segments, first match wins:

=============  =============================================
new            one order, R >= 4
champions      R >= 4 and F >= 4
loyal          R >= 3 and F >= 3
potential      R >= 3 (few orders yet)
at_risk        R <= 2 and F >= 3 (used to buy often)
hibernating    R == 2
lost           R == 1
=============  =============================================

Clusters
--------
K-means (scikit-learn) on standardised behaviour features (log1p of the skewed
counts and amounts, then z-scores) of the members with an order or an event. The
number of clusters is the k in 2..8 with the highest **silhouette score** on a
sample of at most 3,000 members (seeded). Each cluster is described by its centre's
z-scores: the (up to) three features furthest from the population mean, in words
("many orders, high spend, recent"). Clusters are named by that description and
coded ``cluster-1`` .. ``cluster-k`` in decreasing size.

``segments_rebuild`` writes the memberships, each segment's size and a
``SegmentRun`` with the sizes and the movements (from → to counts) since the last
run, kept for reports.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from membership import memo
from membership.models import MemberProfile, Segment, SegmentMembership, SegmentRun

RFM_SEGMENTS = {
    "champions": (_("Champions"), _("Bought recently, buy often and spend the most.")),
    "loyal": (_("Loyal"), _("Buy regularly and recently.")),
    "potential": (_("Potential loyalists"), _("Recent customers with a few orders.")),
    "new": (_("New customers"), _("Made their first order recently.")),
    "at_risk": (_("At risk"), _("Used to buy often but not for a while.")),
    "hibernating": (_("Hibernating"), _("Few orders, some time ago.")),
    "lost": (_("Lost"), _("Few orders, long ago.")),
}


def _quintile(values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return np.array([], dtype=int)
    pct = pd.Series(values).rank(method="average", pct=True).to_numpy()
    return np.clip(np.ceil(pct * 5), 1, 5).astype(int)


def rfm_scores(recency: np.ndarray, frequency: np.ndarray, monetary: np.ndarray):
    """R, F, M scores 1-5 (R: smaller recency is better)."""
    return _quintile(-np.asarray(recency, float)), _quintile(frequency), _quintile(monetary)


def rfm_segment(r: int, f: int, orders: int) -> str:
    if orders <= 1 and r >= 4:
        return "new"
    if orders <= 1:
        # One order is never "buys often": when most members are one-time buyers, the tied
        # frequency rank alone would give them F >= 3 (loyal / at risk).
        return "potential" if r >= 3 else ("hibernating" if r == 2 else "lost")
    if r >= 4 and f >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 3:
        return "potential"
    if f >= 3:
        return "at_risk"
    if r == 2:
        return "hibernating"
    return "lost"


def rfm_assign(features: pd.DataFrame) -> list[str]:
    """RFM segment code of every row of ``prediction.features_at`` ('' without orders)."""
    present = features["present"].to_numpy()
    out = [""] * len(features)
    idx = np.flatnonzero(present)
    if not len(idx):
        return out
    sub = features.iloc[idx]
    r, f, _m = rfm_scores(sub["recency"], sub["n_orders"], sub["total_spend"])
    for j, i in enumerate(idx):
        out[i] = rfm_segment(int(r[j]), int(f[j]), int(sub["n_orders"].iat[j]))
    return out


# --- clusters ----------------------------------------------------------------------------

CLUSTER_FEATURES = {
    # key in profile data: (label when high, label when low, log1p?)
    "recency_days": (_("long since last order"), _("ordered recently"), True),
    "orders": (_("many orders"), _("few orders"), True),
    "spend": (_("high spend"), _("low spend"), True),
    "avg_order_value": (_("large baskets"), _("small baskets"), True),
    "views_90d": (_("browses a lot"), _("browses little"), True),
    "favorites": (_("saves many favourites"), _("saves few favourites"), True),
    "cart_adds_90d": (_("adds to cart often"), _("rarely adds to cart"), True),
    "discount_share": (_("buys on discount"), _("pays full price"), False),
    "categories_bought": (_("buys across many categories"), _("sticks to few categories"), True),
}
K_RANGE = range(2, 9)
SAMPLE = 3000


def cluster_matrix(rows: list[dict]) -> np.ndarray:
    data = np.array(
        [[float(r.get(key) or 0) for key in CLUSTER_FEATURES] for r in rows], dtype=float
    )
    for j, (_hi, _lo, log) in enumerate(CLUSTER_FEATURES.values()):
        if log:
            data[:, j] = np.log1p(np.clip(data[:, j], 0, None))
    return data


def clusters_fit(matrix: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """(labels, centres in z-scores, params) with k chosen by silhouette."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # small fits; spinning OpenMP threads cost more
        return _clusters_fit(matrix, seed=seed, kmeans=KMeans, silhouette=silhouette_score)


def _clusters_fit(matrix: np.ndarray, *, seed: int, kmeans, silhouette):

    mean = matrix.mean(axis=0)
    std = matrix.std(axis=0)
    std[std == 0] = 1.0
    z = (matrix - mean) / std
    n = len(z)
    rng = np.random.default_rng(seed)
    sample = z if n <= SAMPLE else z[rng.choice(n, SAMPLE, replace=False)]
    scores = {}
    for k in K_RANGE:
        if k >= len(np.unique(sample, axis=0)):
            break
        model = kmeans(n_clusters=k, n_init=4, random_state=seed).fit(sample)
        scores[k] = float(silhouette(sample, model.labels_))
    k = max(scores, key=scores.get) if scores else 1
    model = kmeans(n_clusters=k, n_init=4, random_state=seed).fit(z)
    params = {"k": k, "silhouette": scores, "criterion": "silhouette", "sample": len(sample)}
    return model.labels_, model.cluster_centers_, params


def describe(centre: np.ndarray, threshold: float = 0.5) -> tuple[str, list[dict]]:
    """Words for a cluster centre: the up-to-three features furthest from the mean."""
    keys = list(CLUSTER_FEATURES)
    order = np.argsort(-np.abs(centre))
    parts, detail = [], []
    for j in order[:3]:
        if abs(centre[j]) < threshold:
            continue
        high, low, _log = CLUSTER_FEATURES[keys[j]]
        parts.append(str(high if centre[j] > 0 else low))
        detail.append({"feature": keys[j], "z": round(float(centre[j]), 2)})
    return (", ".join(parts) or str(_("close to the average member"))), detail


def segments_rebuild(*, seed: int = 0) -> SegmentRun:
    """Recompute RFM segments and clusters from the stored profiles; keep the history."""
    profiles = list(
        MemberProfile.objects.order_by("user_id").values_list(
            "user_id", "data", "rfm_segment", "cluster"
        )
    )
    now = timezone.now()
    with_orders = [(uid, d) for uid, d, _r, _c in profiles if (d or {}).get("orders")]
    active = [
        (uid, d)
        for uid, d, _r, _c in profiles
        if (d or {}).get("orders") or (d or {}).get("events")
    ]
    before_rfm = {uid: r for uid, _d, r, _c in profiles}
    before_cluster = {uid: c for uid, _d, _r, c in profiles}
    rfm: dict[int, str] = {}
    if with_orders:
        rec = np.array([d["recency_days"] for _u, d in with_orders], float)
        freq = np.array([d["orders"] for _u, d in with_orders], float)
        mon = np.array([float(d["spend"]) for _u, d in with_orders], float)
        r, f, m = rfm_scores(rec, freq, mon)
        for j, (uid, d) in enumerate(with_orders):
            rfm[uid] = rfm_segment(int(r[j]), int(f[j]), int(d["orders"]))
    cluster: dict[int, str] = {}
    descriptions: dict[str, tuple[str, list[dict]]] = {}
    params: dict = {}
    if len(active) >= 20:
        labels, centres, params = clusters_fit(cluster_matrix([d for _u, d in active]), seed=seed)
        sizes = Counter(labels.tolist())
        rank = {label: i + 1 for i, (label, _n) in enumerate(sizes.most_common())}
        for j, (uid, _d) in enumerate(active):
            cluster[uid] = f"cluster-{rank[labels[j]]}"
        for label, i in rank.items():
            descriptions[f"cluster-{i}"] = describe(centres[label])
    params["features"] = list(CLUSTER_FEATURES)

    with transaction.atomic():
        segments = {}
        for code, (name, text) in RFM_SEGMENTS.items():
            segments[code], _c = Segment.objects.update_or_create(
                code=code,
                defaults={
                    "kind": Segment.Kind.RFM,
                    "name": str(name),
                    "description": str(text),
                    "is_active": True,
                    "updated_at": now,
                },
            )
        Segment.objects.filter(kind=Segment.Kind.CLUSTER).exclude(code__in=descriptions).update(
            is_active=False, size=0
        )
        for code, (text, detail) in descriptions.items():
            segments[code], _c = Segment.objects.update_or_create(
                code=code,
                defaults={
                    "kind": Segment.Kind.CLUSTER,
                    "name": text[:100].capitalize(),
                    "description": text,
                    "profile": {"distinguishing": detail},
                    "is_active": True,
                    "updated_at": now,
                },
            )
        old = {
            (sid, uid): since
            for sid, uid, since in SegmentMembership.objects.values_list(
                "segment_id", "user_id", "since"
            )
        }
        SegmentMembership.objects.all().delete()
        rows = []
        for assignment in (rfm, cluster):
            for uid, code in assignment.items():
                seg = segments[code]
                rows.append(
                    SegmentMembership(segment=seg, user_id=uid, since=old.get((seg.pk, uid), now))
                )
        SegmentMembership.objects.bulk_create(rows, batch_size=5000)
        size = Counter(rfm.values()) + Counter(cluster.values())
        for code, seg in segments.items():
            Segment.objects.filter(pk=seg.pk).update(size=size.get(code, 0))
        Segment.objects.filter(kind=Segment.Kind.RFM).exclude(code__in=segments).update(size=0)
        # The profiles carry their segment codes (for audiences and admin filters).
        changed = [
            uid for uid, _d, r, c in profiles if rfm.get(uid, "") != r or cluster.get(uid, "") != c
        ]
        for start in range(0, len(changed), 1000):
            batch = MemberProfile.objects.filter(user_id__in=changed[start : start + 1000])
            objs = list(batch)
            for p in objs:
                p.rfm_segment = rfm.get(p.user_id, "")
                p.cluster = cluster.get(p.user_id, "")
            MemberProfile.objects.bulk_update(objs, ["rfm_segment", "cluster"])
        memo.forget()  # bulk writes send no signals
        movements = {
            "rfm": dict(
                Counter(
                    f"{before_rfm.get(uid) or '-'}>{code}"
                    for uid, code in rfm.items()
                    if before_rfm.get(uid) and before_rfm.get(uid) != code
                )
            ),
            "cluster": dict(
                Counter(
                    f"{before_cluster.get(uid) or '-'}>{code}"
                    for uid, code in cluster.items()
                    if before_cluster.get(uid) and before_cluster.get(uid) != code
                )
            ),
        }
        return SegmentRun.objects.create(
            created_at=now,
            members=len(active),
            sizes={"rfm": dict(Counter(rfm.values())), "cluster": dict(Counter(cluster.values()))},
            movements=movements,
            params=params,
        )
