"""Reading the shop's data for training, and the lists computed beside the models:
content similarity (new products), bought-together rules, popularity.

The interaction matrix comes from the behaviour log (``browsing.Event``): views,
favourites, cart additions, purchases (written when an order is paid, and by
``import_orders``) and ratings (reviews and ``import_events``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from browsing.models import Event
from catalog.models import Product
from recommend.ml.algorithms import top_k_rows
from recommend.ml.data import KIND_CODES, Interactions, from_ids

TRAINED_TYPES = list(KIND_CODES)
CHUNK = 50_000


@dataclass
class TrainingData:
    inter: Interactions
    user_ids: np.ndarray  # index -> User.pk
    item_ids: np.ndarray  # index -> Product.pk
    baskets: list[tuple]  # (user_id, ref or day, product_id) of purchases


def load_interactions(*, until=None) -> TrainingData:
    """Every member event on a product of a trained type, in log order."""
    rows = Event.objects.filter(
        user__isnull=False, product__isnull=False, event_type__in=TRAINED_TYPES
    )
    if until is not None:
        rows = rows.filter(occurred_at__lt=until)
    rows = rows.order_by("id").values_list(
        "user_id", "product_id", "event_type", "value", "occurred_at", "ref"
    )
    users, items, kinds, values, times, baskets = [], [], [], [], [], []
    for user_id, product_id, event_type, value, occurred_at, ref in rows.iterator(chunk_size=CHUNK):
        users.append(user_id)
        items.append(product_id)
        kinds.append(KIND_CODES[event_type])
        values.append(float(value) if value is not None and event_type == "rating" else np.nan)
        ts = occurred_at.timestamp()
        times.append(ts)
        if event_type == "purchase":
            baskets.append((user_id, ref or int(ts // 86_400), product_id))
    inter, user_ids, item_ids = from_ids(
        np.array(users, dtype=np.int64),
        np.array(items, dtype=np.int64),
        kinds,
        values,
        times,
    )
    return TrainingData(inter, user_ids, item_ids, baskets)


# --- content similarity -------------------------------------------------------------------


def _price_band(price) -> str:
    value = float(price or 0)
    return f"price_{int(np.log2(value + 1))}"


def product_documents(products) -> list[str]:
    docs = []
    for p in products:
        attrs = " ".join(
            f"{k} {v}" for k, v in (p["attributes"] or {}).items() if not str(k).startswith("_")
        )
        docs.append(
            " ".join(
                [
                    p["name"] or "",
                    p["name_zh_hans"] or "",
                    (p["description"] or "")[:1000],
                    p["category__name"] or "",
                    f"cat_{p['category_id']} cat_{p['category_id']}",
                    f"brand_{p['brand_id']}" if p["brand_id"] else "",
                    p["brand__name"] or "",
                    attrs,
                    _price_band(p["price"]),
                ]
            )
        )
    return docs


def content_neighbours(k: int, *, only: list[int] | None = None) -> dict[int, tuple[list, list]]:
    """Top-k content neighbours of active products (TF-IDF of name, description,
    category, brand, attributes, one-hot category / brand tokens and price band).

    ``only``: compute the lists of these products (against every active product).
    """
    products = list(
        Product.objects.filter(is_active=True)
        .order_by("pk")
        .values(
            "pk", "name", "name_zh_hans", "description", "category_id", "category__name",
            "brand_id", "brand__name", "attributes", "price",
        )
    )  # fmt: skip
    if len(products) < 2:
        return {}
    ids = np.array([p["pk"] for p in products])
    # words in more than half the catalogue ("Imported", one category) say nothing and
    # would make every pair similar (a dense product)
    vectorizer = TfidfVectorizer(
        sublinear_tf=True,
        max_features=50_000,
        max_df=0.5 if len(products) > 20 else 1.0,
        token_pattern=r"(?u)\b\w+\b",
        dtype=np.float32,
    )
    V = normalize(vectorizer.fit_transform(product_documents(products))).tocsr()
    rows = np.arange(len(ids)) if only is None else np.flatnonzero(np.isin(ids, only))
    out: dict[int, tuple[list, list]] = {}
    block = max(1, 20_000_000 // len(ids))
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        dense = (V[chunk] @ V.T).toarray()
        dense[np.arange(len(chunk)), chunk] = 0.0
        part = top_k_rows(dense, k).tocsr()
        for r, row in enumerate(chunk):
            lo, hi = part.indptr[r], part.indptr[r + 1]
            order = np.argsort(-part.data[lo:hi])
            out[int(ids[row])] = (
                [int(x) for x in ids[part.indices[lo:hi][order]]],
                [round(float(x), 4) for x in part.data[lo:hi][order]],
            )
    return out


# --- bought together ----------------------------------------------------------------------


def bought_together(baskets: list[tuple], k: int, *, min_support: int = 2) -> dict:
    """Association rules A -> B from co-purchases in one order (or one member's day).

    For each product A: the products B bought with it, ranked by confidence
    P(B | A) shrunk towards 0 for rare A (support / (count(A) + 5)), keeping
    pairs with support >= ``min_support`` and lift > 1. Returns
    {A: ([B...], [score...], [[support, confidence, lift]...])}.
    """
    if not baskets:
        return {}
    keys: dict[tuple, int] = {}
    rows, cols = [], []
    for user_id, ref, product_id in baskets:
        rows.append(keys.setdefault((user_id, ref), len(keys)))
        cols.append(product_id)
    items, col_idx = np.unique(np.array(cols), return_inverse=True)
    B = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (np.array(rows), col_idx)),
        shape=(len(keys), len(items)),
    )
    B.data[:] = 1.0
    B.sum_duplicates()
    B.data[:] = 1.0
    n_baskets = B.shape[0]
    counts = np.asarray(B.sum(axis=0)).ravel()
    C = (B.T @ B).tocsr()
    C.setdiag(0)
    C.eliminate_zeros()
    out: dict = {}
    for a in range(C.shape[0]):
        lo, hi = C.indptr[a], C.indptr[a + 1]
        if lo == hi:
            continue
        others, support = C.indices[lo:hi], C.data[lo:hi]
        confidence = support / counts[a]
        lift = confidence / (counts[others] / n_baskets)
        keep = (support >= min_support) & (lift > 1.0)
        if not keep.any():
            continue
        others, support, confidence, lift = (
            others[keep], support[keep], confidence[keep], lift[keep],
        )  # fmt: skip
        score = support / (counts[a] + 5.0)
        order = np.lexsort((-lift, -score))[:k]
        out[int(items[a])] = (
            [int(items[o]) for o in others[order]],
            [round(float(s), 4) for s in score[order]],
            [
                [int(s), round(float(c), 4), round(float(li), 3)]
                for s, c, li in zip(support[order], confidence[order], lift[order], strict=True)
            ],
        )
    return out


# --- popularity ---------------------------------------------------------------------------


def popularity_lists(data: TrainingData, vector: np.ndarray, *, size: int = 200, per_cat=30):
    """Popular products overall and per category (the validated popularity vector)."""
    order = np.argsort(-vector, kind="stable")
    ranked = [int(data.item_ids[i]) for i in order]
    categories = dict(
        Product.objects.filter(pk__in=ranked, is_active=True).values_list("pk", "category_id")
    )
    by_category: dict[str, list[int]] = defaultdict(list)
    overall = []
    for pk in ranked:
        category = categories.get(pk)
        if category is None:
            continue
        if len(overall) < size:
            overall.append(pk)
        bucket = by_category[str(category)]
        if len(bucket) < per_cat:
            bucket.append(pk)
    return overall, dict(by_category)
