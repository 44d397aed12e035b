"""The candidate models. Each one is fitted on a ``Context`` and scores every item for
a batch of users; item-based ones score ``profile @ S`` with a similarity ``S``.

* ``pop``: distinct users per item, over the whole history or its latest part
  (``window``, a fraction of the time span: "trending");
* ``als``: implicit's alternating least squares (confidence = alpha x weight);
* ``cosine`` / ``bm25``: implicit's item-item k-nearest neighbours;
* ``rp3beta``: random walk user -> item -> user -> item with transition
  probabilities raised to ``alpha`` and popular destinations damped by
  degree ** -``beta``, top ``k`` neighbours per item (Paudel et al. 2017);
* ``ease``: Steck's closed form, B = -P / diag(P), P = (X'X + lambda I)^-1,
  dense, only when the item count allows (``EASE_MAX_ITEMS``);
* ``seq``: a transition model, item a followed by item b in a member's own
  time order within ``window`` steps (weight 1 / gap), rows normalised; it
  reads the member's latest items (profile half-life ``h``).

``recency`` (a half-life in positions of the member's own history, None = off)
re-weights the query side of the item-based models; it is validated like any
other hyperparameter. ``artefact()`` returns what fold-in needs (a pruned
similarity, item factors, a popularity vector), never the full training data.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from recommend.ml.data import Interactions, Pairs, profile

EASE_MAX_ITEMS = 15_000
ARTEFACT_NEIGHBOURS = 200  # similarity entries kept per item for fold-in
BLOCK_CELLS = 20_000_000  # dense cells per block (80 MB of float32)


class Context:
    """The data a model is fitted on: events, aggregated pairs and their matrix."""

    def __init__(self, inter: Interactions, pairs: Pairs, *, threads: int = 2):
        self.inter = inter
        self.pairs = pairs
        self.X = pairs.matrix()
        self.threads = threads
        self._ranks: np.ndarray | None = None
        self._profiles: dict = {}

    def profile(self, h: float | None) -> sp.csr_matrix:
        if h not in self._profiles:
            if h and self._ranks is None:
                self._ranks = self.pairs.recency_rank()
            self._profiles[h] = profile(self.pairs, h, self._ranks)
        return self._profiles[h]


def top_k_rows(dense: np.ndarray, k: int, offset: int = 0) -> sp.coo_matrix:
    """Keep the ``k`` largest positive entries of each row (a block starting at row ``offset``)."""
    n, m = dense.shape
    k = min(k, m)
    if k <= 0:
        return sp.coo_matrix((n, m), dtype=np.float32)
    idx = np.argpartition(-dense, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(dense, idx, axis=1)
    rows = np.repeat(np.arange(n), k)
    keep = vals.ravel() > 0
    return sp.coo_matrix(
        (vals.ravel()[keep], (rows[keep] + offset, idx.ravel()[keep])), shape=(n + offset, m)
    )


def prune(S, k: int) -> sp.csr_matrix:
    """The ``k`` largest entries per row of a dense or sparse similarity, as CSR float32."""
    if sp.issparse(S):
        S = S.tocsr()
        if np.diff(S.indptr).max(initial=0) <= k:
            return S.astype(np.float32)
    n = S.shape[0]
    block = max(1, BLOCK_CELLS // max(1, S.shape[1]))
    parts = []
    for start in range(0, n, block):
        chunk = S[start : start + block]
        chunk = chunk.toarray() if sp.issparse(chunk) else np.asarray(chunk)
        parts.append(top_k_rows(chunk, k, offset=start))
    return _stack(parts, S.shape)


def _stack(parts: list[sp.coo_matrix], shape: tuple) -> sp.csr_matrix:
    """One CSR matrix from row blocks given as COO with global row numbers."""
    if not parts:
        return sp.csr_matrix(shape, dtype=np.float32)
    data = np.concatenate([p.data for p in parts]).astype(np.float32)
    rows = np.concatenate([p.row for p in parts])
    cols = np.concatenate([p.col for p in parts])
    return sp.csr_matrix((data, (rows, cols)), shape=shape)


def dense(product) -> np.ndarray:
    if sp.issparse(product):
        product = product.toarray()
    return np.asarray(product, dtype=np.float32)


class Model:
    family = ""
    item_based = False
    defaults: dict = {}

    def __init__(self, **params):
        self.params = {**self.defaults, **params}
        self.fit_seconds = 0.0

    def __repr__(self) -> str:
        return f"{self.family}({self.params})"

    @property
    def recency(self):
        return self.params.get("recency")

    def fit(self, ctx: Context) -> Model:
        started = time.perf_counter()
        self._fit(ctx)
        self.fit_seconds = time.perf_counter() - started
        return self

    def _fit(self, ctx: Context) -> None:
        raise NotImplementedError

    def score(self, ctx: Context, users: np.ndarray) -> np.ndarray:
        return dense(ctx.profile(self.recency)[users] @ self.S)

    def similarity(self) -> sp.csr_matrix | None:
        """Item x item similarity for "similar items" and reasons (None when not item-based)."""
        return prune(self.S, ARTEFACT_NEIGHBOURS) if self.item_based else None

    def artefact(self) -> dict:
        return {"family": self.family, "params": self.params, "S": self.similarity()}


class Popularity(Model):
    family = "pop"
    defaults = {"window": 1.0}

    def _fit(self, ctx: Context) -> None:
        inter = ctx.inter
        window = self.params["window"]
        mask = inter.times >= inter.t_end - window * inter.span if window < 1.0 else slice(None)
        users, items = inter.users[mask], inter.items[mask]
        keys = np.unique(users.astype(np.int64) * inter.n_items + items)
        counts = np.bincount((keys % inter.n_items).astype(np.int64), minlength=inter.n_items)
        total = np.bincount(ctx.pairs.items, minlength=inter.n_items)
        # recent counts first, all-time counts break ties (and rank items unseen lately)
        self.vector = (np.log1p(counts) + 1e-3 * np.log1p(total)).astype(np.float32)

    def score(self, ctx: Context, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.vector, (len(users), len(self.vector))).copy()

    def artefact(self) -> dict:
        return {"family": self.family, "params": self.params, "vector": self.vector}


class ALS(Model):
    family = "als"
    defaults = {"factors": 64, "regularization": 0.05, "alpha": 2.0, "iterations": 15}

    def _fit(self, ctx: Context) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        with threadpool_limits(1, "blas"):  # implicit parallelises itself
            model = AlternatingLeastSquares(
                factors=int(p["factors"]),
                regularization=float(p["regularization"]),
                alpha=float(p["alpha"]),
                iterations=int(p["iterations"]),
                num_threads=ctx.threads,
                random_state=0,
            )
            model.fit(ctx.X, show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def score(self, ctx: Context, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T

    def similarity(self) -> sp.csr_matrix | None:
        return None

    def artefact(self) -> dict:
        return {"family": self.family, "params": self.params, "item_factors": self.item_factors}


def fold_in_als(art: dict, row: sp.csr_matrix) -> np.ndarray:
    """A member's ALS factors from their (weighted) row, the closed-form step ALS
    itself takes for a user: (Y'Y + Y'(C - I)Y + reg I)^-1 Y'C p, C = 1 + alpha x."""
    Y = art["item_factors"].astype(np.float64)
    p = art["params"]
    idx, x = row.indices, row.data.astype(np.float64)
    conf = p["alpha"] * x
    Yi = Y[idx]
    A = Y.T @ Y + (Yi.T * conf) @ Yi + p["regularization"] * np.eye(Y.shape[1])
    b = Yi.T @ (1.0 + conf)
    return np.linalg.solve(A, b).astype(np.float32)


class ItemKNN(Model):
    """implicit's item-item k-nearest neighbours with cosine or BM25 weighting."""

    item_based = True

    def _fit(self, ctx: Context) -> None:
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

        p = self.params
        if self.family == "bm25":
            model = BM25Recommender(
                K=int(p["k"]), K1=float(p["k1"]), B=float(p["b"]), num_threads=ctx.threads
            )
        else:
            model = CosineRecommender(K=int(p["k"]), num_threads=ctx.threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # implicit's "expects CSR" note about its own COO
            model.fit(ctx.X, show_progress=False)
        S = model.similarity.tocsr().astype(np.float32)
        S.setdiag(0)
        S.eliminate_zeros()
        self.S = S


class Cosine(ItemKNN):
    family = "cosine"
    defaults = {"k": 100, "recency": None}


class BM25(ItemKNN):
    family = "bm25"
    defaults = {"k": 100, "k1": 1.2, "b": 0.75, "recency": None}


class RP3Beta(Model):
    family = "rp3beta"
    item_based = True
    defaults = {"alpha": 1.0, "beta": 0.3, "k": 200, "recency": None}

    def _fit(self, ctx: Context) -> None:
        p = self.params
        X = ctx.X
        n_items = X.shape[1]
        p_ui = normalize(X, norm="l1", axis=1)
        p_iu = normalize(X.T.tocsr(), norm="l1", axis=1)
        if p["alpha"] != 1.0:
            p_ui.data **= p["alpha"]
            p_iu.data **= p["alpha"]
        degree = np.maximum(np.asarray(X.sum(axis=0)).ravel(), 1.0)
        penalty = np.power(degree, -p["beta"]).astype(np.float32)
        block = max(1, BLOCK_CELLS // max(1, n_items))
        parts = []
        for start in range(0, n_items, block):
            dense = (p_iu[start : start + block] @ p_ui).toarray().astype(np.float32)
            dense *= penalty[None, :]
            rows = np.arange(dense.shape[0])
            dense[rows, rows + start] = 0.0
            parts.append(top_k_rows(dense, int(p["k"]), offset=start))
        S = _stack(parts, (n_items, n_items))
        self.S = normalize(S, norm="l1", axis=1).astype(np.float32)


class EASE(Model):
    family = "ease"
    item_based = True
    defaults = {"lambda": 200.0, "recency": None}

    @staticmethod
    def fits(n_items: int, max_items: int = EASE_MAX_ITEMS) -> bool:
        return 0 < n_items <= max_items

    def _fit(self, ctx: Context, gram: np.ndarray | None = None) -> None:
        import scipy.linalg

        n = ctx.X.shape[1]
        if not self.fits(n, self.params.get("max_items", EASE_MAX_ITEMS)):
            raise ValueError(f"EASE needs at most {EASE_MAX_ITEMS} items, got {n}")
        dtype = np.float64 if n <= 6000 else np.float32
        G = gram if gram is not None else gram_matrix(ctx.X, dtype)
        G = G.copy()
        G[np.diag_indices(n)] += float(self.params["lambda"])
        with threadpool_limits(ctx.threads, "blas"):
            P = scipy.linalg.inv(G, overwrite_a=True, check_finite=False)
        B = P / (-np.diag(P))[None, :]
        B[np.diag_indices(n)] = 0.0
        self.S = B.astype(np.float32)

    def score(self, ctx: Context, users: np.ndarray) -> np.ndarray:
        with threadpool_limits(ctx.threads, "blas"):
            return dense(ctx.profile(self.recency)[users] @ self.S)


def gram_matrix(X: sp.csr_matrix, dtype=np.float64) -> np.ndarray:
    return (X.T @ X).toarray().astype(dtype)


class Sequential(Model):
    family = "seq"
    item_based = True
    defaults = {"window": 2, "recency": 1.0, "beta": 0.0}

    def _fit(self, ctx: Context) -> None:
        inter = ctx.inter
        n_items = inter.n_items
        order = np.lexsort((np.arange(len(inter)), inter.times, inter.users))
        users, items = inter.users[order], inter.items[order]
        # drop immediate repeats of the same item by the same user
        keep = np.r_[True, (users[1:] != users[:-1]) | (items[1:] != items[:-1])]
        users, items = users[keep], items[keep]
        rows, cols, vals = [], [], []
        for gap in range(1, int(self.params["window"]) + 1):
            same = users[gap:] == users[:-gap]
            a, b = items[:-gap][same], items[gap:][same]
            diff = a != b
            rows.append(a[diff])
            cols.append(b[diff])
            vals.append(np.full(int(diff.sum()), 1.0 / gap, dtype=np.float32))
        T = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_items, n_items),
        )
        T.sum_duplicates()
        if self.params["beta"]:
            degree = np.maximum(np.bincount(ctx.pairs.items, minlength=n_items), 1)
            T = T @ sp.diags(np.power(degree, -self.params["beta"]).astype(np.float32))
        self.S = normalize(T.tocsr(), norm="l1", axis=1).astype(np.float32)


FAMILIES: dict[str, type[Model]] = {
    m.family: m for m in (Popularity, ALS, Cosine, BM25, RP3Beta, EASE, Sequential)
}


def build(family: str, params: dict) -> Model:
    return FAMILIES[family](**params)
