"""Loyalty and value prediction: P(order again), expected orders and expected spend.

Pure numpy/pandas/scipy/scikit-learn over an order table (customer, time in days,
amount); no database access here (``membership.scoring`` loads the orders).

Models
------
* **BG/NBD** (Fader, Hardie & Lee 2005) and **Gamma-Gamma** (Fader, Hardie & Lee
  2005b), fitted by maximum likelihood (scipy L-BFGS-B over log-parameters, the
  log-likelihood vectorised). Transactions are purchase *days* (several orders on
  one day are one transaction), times are in weeks. They are baselines and features.
* **Supervised** (scikit-learn ``HistGradientBoosting``): examples are the members
  at earlier cutoffs inside the calibration period; features are RFM-type figures
  from the data up to the cutoff plus the BG/NBD expectations and P(alive) and the
  Gamma-Gamma spend at that cutoff; labels are the orders / spend / any order in the
  window ``W`` after the cutoff.

Horizon
-------
The label window is ``W = min(H, S / 3)`` (S = calibration span) so that two
cutoffs fit before the as-of date: ``c2 = as_of - 2W`` (trains the validation
model) and ``c1 = as_of - W`` (validation labels; then also training rows of the
final model, with ``c2``). When ``H > W`` a supervised regression for ``W`` is
scaled to ``H`` per member by the BG/NBD horizon ratio ``E[X(H)] / E[X(W)]`` at the
as-of date or linearly (``H / W``), whichever wins the *scaling check*: models
trained on ``W/2`` (cutoff ``c1 - W/2``) applied at ``c1`` and scaled to ``W``,
scored on the W labels (the same x2 stretch; the W-trained model's MAE is printed
beside them as "direct"). BG/NBD's own candidates are computed for ``H`` directly.

Choice per target (temporal validation on the last window)
----------------------------------------------------------
* ``p_return``: BG/NBD ``P(X(W) > 0)`` vs rank blends of BG/NBD with a
  gradient-boosted classifier or a logistic regression (weights 0..1); a blend is
  used only if it beats BG/NBD by ``BLEND_MARGIN`` of AUC, and, when ``H > W``, also
  when its ranker is trained on ``W/2`` labels and scored on ``W`` (the *horizon
  transfer check*). Otherwise BG/NBD's order is kept (ties broken by the
  classifier), so on data that follow BG/NBD we tie with it at worst.
* ``expected_orders`` / ``expected_spend``: BG/NBD mean (× Gamma-Gamma), BG/NBD
  posterior *median* (simulated), the hybrid median (P(no order) from the chosen
  blend), gradient boosting with absolute-error loss (a conditional median) and
  with squared-error loss (a conditional mean) — lowest MAE wins. MAE is minimised
  by the conditional median and most members make no further order, so the
  median-type candidates usually win. When ``H > W`` BG/NBD's mean and median are
  also compared over ``L = min(H, S/2)`` (no training needed); if the mean wins
  there it is used (the *long-window check*).

Features: RFM figures, recent counts (28/56/91/90/180/365 days), mean and last gap,
regularity (coefficient of variation of the gaps, "overdue" = log(1 + recency / mean
gap) / max(CV, 0.25)), spend and items trends (last purchase day vs the mean),
first-order spend and items, and BG/NBD's expectation, P(alive) and P(any) and
Gamma-Gamma's expected value at each cutoff.

Only orders up to the as-of date are passed in; nothing here looks past it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

WEEK = 7.0
FEATURES = [
    "n_orders",
    "x",
    "t_x",
    "T",
    "recency",
    "total_spend",
    "mean_spend",
    "first_spend",
    "last_spend",
    "max_spend",
    "n_90",
    "n_180",
    "n_365",
    "spend_180",
    "mean_gap",
    "last_gap",
    "bg_exp",
    "bg_alive",
    "bg_p_any",
    "gg_mean",
    "rate",
    "alive_ratio",
    "recency_over_gap",
    "first_items",
    "mean_items",
    "n_28",
    "n_56",
    "n_91",
    "gap_cv",
    "overdue",
    "spend_trend",
    "items_trend",
]
# The classifier sees only figures that do not grow with the member's age (the
# scoring date lies beyond every training cutoff, and trees do not extrapolate).
CLASSIFIER_FEATURES = [
    "x",
    "rate",
    "alive_ratio",
    "recency_over_gap",
    "bg_alive",
    "bg_logit",
    "bg_exp",
    "mean_spend",
    "first_spend",
    "last_spend",
    "max_spend",
    "first_items",
    "mean_items",
    "n_28",
    "n_56",
    "n_91",
    "gap_cv",
    "overdue",
    "spend_trend",
    "items_trend",
]
ALL_FEATURES = FEATURES + [c for c in CLASSIFIER_FEATURES if c not in FEATURES]
RFM_FEATURES = ["recency", "n_orders", "mean_spend", "T"]


# --- BG/NBD ----------------------------------------------------------------------------


@dataclass
class BGNBD:
    r: float = 0.25
    alpha: float = 4.0
    a: float = 0.8
    b: float = 2.5

    @staticmethod
    def _ll(params, x, t_x, T, w):
        r, alpha, a, b = np.exp(params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore", invalid="ignore"):
            a4 = np.where(
                x > 0,
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        ll = a1 + a2 + np.logaddexp(a3, a4)
        return -(w * ll).sum() / w.sum()

    def fit(self, x, t_x, T) -> BGNBD:
        """Maximum likelihood on (x, t_x, T), grouped on identical rows for speed."""
        frame = pd.DataFrame({"x": x, "t_x": np.round(t_x, 4), "T": np.round(T, 4)})
        grouped = frame.groupby(["x", "t_x", "T"]).size().reset_index(name="w")
        args = (
            grouped["x"].to_numpy(float),
            grouped["t_x"].to_numpy(float),
            grouped["T"].to_numpy(float),
            grouped["w"].to_numpy(float),
        )
        start = np.log([self.r, self.alpha, self.a, self.b])
        result = minimize(self._ll, start, args=args, method="L-BFGS-B", bounds=[(-6, 6)] * 4)
        self.r, self.alpha, self.a, self.b = (float(v) for v in np.exp(result.x))
        return self

    def _denominator(self, x, t_x, T):
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            term = np.where(
                x > 0,
                a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x),
                0.0,
            )
        return 1.0 + term

    def p_alive(self, x, t_x, T):
        return 1.0 / self._denominator(x, t_x, T)

    def expected(self, t, x, t_x, T):
        """E[X(t) | x, t_x, T]: expected transactions in the next ``t`` weeks."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        t = np.broadcast_to(np.asarray(t, float), np.shape(x))
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        # a < 1 is fine: (a - 1) and the bracket below are then both negative.
        first = (a + b + x - 1) / (a - 1 if abs(a - 1) > 1e-6 else 1e-6)
        value = first * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
        value = value / self._denominator(x, t_x, T)
        value = np.where(np.isfinite(value), value, 0.0)
        return np.clip(value, 0.0, None)

    def p_any(self, t, x, t_x, T):
        """P(X(t) > 0 | history) = P(alive) (1 - E[e^{-λt}]) (exact)."""
        no_purchase = ((self.alpha + T) / (self.alpha + T + t)) ** (self.r + x)
        return self.p_alive(x, t_x, T) * (1 - no_purchase)

    def simulate(self, t, x, t_x, T, draws: int = 200, seed: int = 0) -> np.ndarray:
        """Draws of X(t) from the posterior predictive, shape (members, draws).

        Alive with P(alive); given alive, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x)
        independently; the future count is min(Poisson(λt), K) with K ~ Geometric(p)
        on {1, 2, ...} (the customer drops out right after a purchase).
        """
        rng = np.random.default_rng(seed)
        n = len(x)
        alive = rng.random((n, draws)) < self.p_alive(x, t_x, T)[:, None]
        lam = rng.gamma(self.r + x[:, None], 1.0 / (self.alpha + T[:, None]), (n, draws))
        p = rng.beta(self.a, self.b + x[:, None], (n, draws))
        count = rng.poisson(lam * t)
        k = rng.geometric(np.clip(p, 1e-9, 1.0))
        return np.where(alive, np.minimum(count, k), 0)


# --- Gamma-Gamma -----------------------------------------------------------------------


@dataclass
class GammaGamma:
    p: float = 6.0
    q: float = 4.0
    v: float = 15.0

    @staticmethod
    def _ll(params, x, m):
        p, q, v = np.exp(params)
        ll = (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(v)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(x * m + v)
        )
        return -ll.mean()

    def fit(self, x, m) -> GammaGamma:
        """``x`` transactions of mean value ``m`` (both > 0)."""
        keep = (x > 0) & (m > 0)
        if keep.sum() < 10:
            self.p, self.q, self.v = (
                1.0,
                3.0,
                float(max(np.mean(m[m > 0]) if (m > 0).any() else 1, 1)),
            )
            return self
        x, m = x[keep].astype(float), m[keep].astype(float)
        start = np.log([2.0, 3.0, max(float(np.mean(m)), 1.0)])
        result = minimize(
            self._ll,
            start,
            args=(x, m),
            method="L-BFGS-B",
            bounds=[(-5, 8), (np.log(1.05), 8), (-5, 15)],
        )
        self.p, self.q, self.v = (float(v) for v in np.exp(result.x))
        return self

    def simulate_totals(self, counts: np.ndarray, x, m, seed: int = 0) -> np.ndarray:
        """Draws of the total spend of ``counts`` future transactions (members × draws):
        ν ~ Gamma(p·x + q, v + x·m) (the posterior, population prior when x = 0), then
        the total of n transactions ~ Gamma(p·n, ν); 0 when n = 0."""
        rng = np.random.default_rng(seed)
        x = np.asarray(x, float)[:, None]
        m = np.where(x > 0, np.asarray(m, float)[:, None], 0.0)
        nu = rng.gamma(self.p * x + self.q, 1.0 / (self.v + x * m), counts.shape)
        shape = np.maximum(self.p * counts, 1e-9)
        return np.where(counts > 0, rng.gamma(shape, 1.0 / nu), 0.0)

    def expected_value(self, x, m):
        """E[M | x, m]: expected value of one transaction (population mean when x = 0)."""
        p, q, v = self.p, self.q, self.v
        population = p * v / max(q - 1, 1e-3)
        x = np.asarray(x, float)
        weight = (q - 1) / (p * x + q - 1)
        return np.where(x > 0, weight * population + (1 - weight) * m, population)


# --- features --------------------------------------------------------------------------


@dataclass
class Orders:
    """Orders as arrays: member index (0..n-1), time in days, amount, items (quantity)."""

    member: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    n_members: int
    quantity: np.ndarray | None = None  # items per order; ones when unknown

    def __post_init__(self):
        if self.quantity is None:
            self.quantity = np.ones(len(self.day))

    def _subset(self, keep) -> Orders:
        return Orders(
            self.member[keep], self.day[keep], self.amount[keep], self.n_members,
            self.quantity[keep],
        )  # fmt: skip

    def before(self, cutoff: float) -> Orders:
        return self._subset(self.day <= cutoff)

    def window(self, start: float, end: float) -> Orders:
        return self._subset((self.day > start) & (self.day <= end))


def _per_member(values, member, n, how="sum"):
    out = np.zeros(n)
    if how == "sum":
        np.add.at(out, member, values)
    elif how == "max":
        out[:] = -np.inf
        np.maximum.at(out, member, values)
        out[~np.isfinite(out)] = 0
    elif how == "min":
        out[:] = np.inf
        np.minimum.at(out, member, values)
        out[~np.isfinite(out)] = 0
    return out


def features_at(orders: Orders, cutoff: float) -> pd.DataFrame:
    """RFM-type features of every member from the orders up to ``cutoff`` (days).

    Members without an order by then get ``present = False`` (and zeros).
    """
    o = orders.before(cutoff)
    n = orders.n_members
    frame = pd.DataFrame(
        {"m": o.member, "d": np.floor(o.day), "a": o.amount, "q": o.quantity, "t": o.day}
    )
    # Transactions: purchase days.
    days = frame.groupby(["m", "d"], sort=True)[["a", "q"]].sum().reset_index()
    count_days = np.bincount(days["m"], minlength=n).astype(float)
    first = _per_member(o.day, o.member, n, "min")
    last = _per_member(o.day, o.member, n, "max")
    n_orders = np.bincount(o.member, minlength=n).astype(float)
    total = _per_member(o.amount, o.member, n)
    present = n_orders > 0
    f = pd.DataFrame(index=np.arange(n))
    f["present"] = present
    f["n_orders"] = n_orders
    f["x"] = np.maximum(count_days - 1, 0)
    f["t_x"] = np.where(present, (last - first) / WEEK, 0)
    f["T"] = np.where(present, (cutoff - first) / WEEK, 0)
    f["recency"] = np.where(present, (cutoff - last) / WEEK, 0)
    f["total_spend"] = total
    f["mean_spend"] = np.where(present, total / np.maximum(n_orders, 1), 0)
    # First and last purchase-day values.
    first_rows = days.drop_duplicates("m", keep="first")
    last_rows = days.drop_duplicates("m", keep="last")
    f["first_spend"] = 0.0
    f.loc[first_rows["m"].to_numpy(), "first_spend"] = first_rows["a"].to_numpy()
    f["last_spend"] = 0.0
    f.loc[last_rows["m"].to_numpy(), "last_spend"] = last_rows["a"].to_numpy()
    f["first_items"] = 0.0
    f.loc[first_rows["m"].to_numpy(), "first_items"] = first_rows["q"].to_numpy()
    f["mean_items"] = np.where(
        present, _per_member(o.quantity, o.member, n) / np.maximum(n_orders, 1), 0
    )
    f["max_spend"] = _per_member(o.amount, o.member, n, "max")
    for span in (28, 56, 91, 90, 180, 365):
        recent = o.day > cutoff - span
        f[f"n_{span}"] = np.bincount(o.member[recent], minlength=n)
    recent = o.day > cutoff - 180
    f["spend_180"] = _per_member(o.amount[recent], o.member[recent], n)
    f["mean_gap"] = np.where(f["x"] > 0, f["t_x"] / np.maximum(f["x"], 1), f["T"])
    # Gap between the last two purchase days.
    gaps = days.groupby("m")["d"].diff()
    last_gap = pd.Series(gaps.to_numpy(), index=days["m"]).groupby(level=0).last()
    f["last_gap"] = f["T"]
    valid = last_gap.dropna()
    f.loc[valid.index.to_numpy(), "last_gap"] = valid.to_numpy() / WEEK
    # Regularity: coefficient of variation of the gaps between purchase days (1, the
    # exponential's, when there are fewer than two gaps), and how overdue the member is
    # (recency over the mean gap, sharper for regular buyers).
    gap_weeks = pd.Series(gaps.to_numpy() / WEEK, index=days["m"].to_numpy()).dropna()
    stats = gap_weeks.groupby(level=0).agg(["mean", "std", "count"])
    stats = stats[stats["count"] >= 2]
    f["gap_cv"] = 1.0
    f.loc[stats.index.to_numpy(), "gap_cv"] = stats["std"].to_numpy() / np.maximum(
        stats["mean"].to_numpy(), 1 / WEEK
    )
    f["overdue"] = np.where(
        f["x"] > 0,
        np.log1p(f["recency"] / np.maximum(f["mean_gap"], 1 / WEEK))
        / np.maximum(f["gap_cv"], 0.25),
        0.0,
    )
    # Trends: the last purchase day's spend and items against the member's mean.
    last_items = np.zeros(n)
    last_items[last_rows["m"].to_numpy()] = last_rows["q"].to_numpy()
    mean_day_spend = np.where(count_days > 0, total / np.maximum(count_days, 1), 0)
    mean_day_items = np.where(
        count_days > 0, _per_member(o.quantity, o.member, n) / np.maximum(count_days, 1), 0
    )
    f["spend_trend"] = np.where(present, np.log((f["last_spend"] + 1) / (mean_day_spend + 1)), 0.0)
    f["items_trend"] = np.where(present, np.log((last_items + 1) / (mean_day_items + 1)), 0.0)
    # Repeat-transaction mean value (for Gamma-Gamma): mean of the days after the first.
    repeat = days[days.duplicated("m", keep="first")]
    repeat_sum = _per_member(repeat["a"].to_numpy(), repeat["m"].to_numpy(), n)
    f["repeat_mean"] = np.where(f["x"] > 0, repeat_sum / np.maximum(f["x"], 1), 0)
    return f


def add_model_features(f: pd.DataFrame, bg: BGNBD, gg: GammaGamma, horizon_weeks: float):
    x, t_x, T = f["x"].to_numpy(), f["t_x"].to_numpy(), f["T"].to_numpy()
    f["bg_exp"] = bg.expected(horizon_weeks, x, t_x, T)
    f["bg_alive"] = bg.p_alive(x, t_x, T)
    f["bg_p_any"] = bg.p_any(horizon_weeks, x, t_x, T)
    f["gg_mean"] = gg.expected_value(x, f["repeat_mean"].to_numpy())
    f["rate"] = x / np.maximum(T, 1 / WEEK)
    f["alive_ratio"] = np.where(T > 0, t_x / np.maximum(T, 1e-9), 0)
    f["recency_over_gap"] = f["recency"] / np.maximum(f["mean_gap"], 1 / WEEK)
    f["bg_logit"] = np.log(
        np.clip(f["bg_p_any"], 1e-6, 1 - 1e-6) / np.clip(1 - f["bg_p_any"], 1e-6, 1)
    )
    return f


def fit_models(f: pd.DataFrame) -> tuple[BGNBD, GammaGamma]:
    p = f[f["present"]]
    bg = BGNBD().fit(p["x"].to_numpy(float), p["t_x"].to_numpy(float), p["T"].to_numpy(float))
    gg = GammaGamma().fit(p["x"].to_numpy(float), p["repeat_mean"].to_numpy(float))
    return bg, gg


def labels(orders: Orders, start: float, end: float) -> pd.DataFrame:
    w = orders.window(start, end)
    n = orders.n_members
    count = np.bincount(w.member, minlength=n).astype(float)
    spend = _per_member(w.amount, w.member, n)
    return pd.DataFrame({"orders": count, "spend": spend, "any": (count > 0).astype(int)})


# --- metrics ---------------------------------------------------------------------------


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by ranks (ties averaged); 0.5 when only one class is present."""
    y = np.asarray(y).astype(bool)
    positives, negatives = y.sum(), (~y).sum()
    if positives == 0 or negatives == 0:
        return 0.5
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def mae(y, pred) -> float:
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(pred, float))))


# --- the model -------------------------------------------------------------------------


def _hgb(loss: str, classifier: bool = False, seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    common = {
        "max_iter": 150,
        "learning_rate": 0.08,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 40,
        "l2_regularization": 1.0,
        "early_stopping": True,
        "validation_fraction": 0.15,
        "n_iter_no_change": 15,
        "random_state": seed,
    }
    if classifier:
        return HistGradientBoostingClassifier(**common)
    return HistGradientBoostingRegressor(loss=loss, **common)


def _lr_matrix(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [
            frame["bg_logit"],
            np.log1p(frame["x"]),
            np.log1p(frame["recency_over_gap"]),
            np.log1p(frame["mean_spend"]),
            np.log1p(frame["last_spend"]),
            frame["alive_ratio"],
            np.log1p(frame["rate"]),
            np.log1p(frame["first_items"]),
            np.log1p(frame["mean_items"]),
        ]
    )


def _ranker_x(ranker: str, frame: pd.DataFrame):
    return frame[CLASSIFIER_FEATURES] if ranker == "hgb" else _lr_matrix(frame)


class _Constant:
    """Stands in for a classifier when the training labels hold one class only."""

    def __init__(self, value: float):
        self.value = value

    def predict_proba(self, x):
        p = np.full(len(x), self.value)
        return np.column_stack([1 - p, p])


def _ranker_fit(ranker: str, frame: pd.DataFrame, y, seed: int):
    if len(np.unique(y)) < 2:
        return _Constant(float(np.mean(y)) if len(y) else 0.0)
    if ranker == "hgb":
        return _hgb("log_loss", classifier=True, seed=seed).fit(frame[CLASSIFIER_FEATURES], y)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
    return model.fit(_ranker_x(ranker, frame), y)


def _stack(orders: Orders, cutoffs: list[float], window: float):
    """Training rows (features at each cutoff, labels in the window after it)."""
    xs, ys = [], []
    for cutoff in cutoffs:
        f = features_at(orders, cutoff)
        bg, gg = fit_models(f)
        add_model_features(f, bg, gg, window / WEEK)
        lab = labels(orders, cutoff, cutoff + window)
        keep = f["present"].to_numpy()
        xs.append(f.loc[keep, ALL_FEATURES])
        ys.append(lab.loc[keep])
    return pd.concat(xs, ignore_index=True), pd.concat(ys, ignore_index=True)


REGRESSION_LOSSES = ("absolute_error", "squared_error")
# Weights of the gradient-boosted classifier's rank in the p_return blend (1e-6: it only
# breaks BG/NBD's ties, which are many among one-time buyers of the same day).
# A blend replaces plain BG/NBD only when it gains at least BLEND_MARGIN of AUC
# (and, when the horizon is longer than the validation window, also when its rankers
# are trained on a window half as long: the horizon transfer check in _predict).
BLEND_MARGIN = 0.001
BLEND_WEIGHTS = (1e-6, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0)
# Rankers blended with BG/NBD for p_return: gradient-boosted trees on age-free features,
# and a logistic regression on BG/NBD's logit plus a few log figures (extrapolates to
# older members more gracefully than trees).
RANKERS = ("hgb", "lr")
# Sliding cutoffs: extra ranker training rows with windows of these shares of W at the
# latest cutoffs whose labels end at the validation cutoff (and, for the final model, at
# the as-of date). The first (W/2) also serves the transfer and scaling checks.
SLIDING = (0.5,)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


@dataclass
class Prediction:
    p_return: np.ndarray
    expected_orders: np.ndarray
    expected_spend: np.ndarray
    present: np.ndarray
    chosen: dict = field(default_factory=dict)
    validation: dict = field(default_factory=dict)
    window_days: float = 0.0
    # How a window-W regressor is stretched to H per target ("ratio": BG/NBD's
    # E[X(H)]/E[X(W)], "linear": H/W), chosen by the scaling check.
    scaling: dict = field(default_factory=dict)
    seconds: float = 0.0
    bg: BGNBD | None = None
    gg: GammaGamma | None = None


def _bg_candidates(f: pd.DataFrame, bg: BGNBD, gg: GammaGamma, t_weeks: float, seed: int):
    x, t_x, T = (f[c].to_numpy(float) for c in ("x", "t_x", "T"))
    mean_orders = bg.expected(t_weeks, x, t_x, T)
    value = gg.expected_value(x, f["repeat_mean"].to_numpy(float))
    # About 5 million draws in all (memory), 50 to 200 per member.
    per_member = int(min(200, max(50, 5_000_000 // max(len(x), 1))))
    draws = bg.simulate(t_weeks, x, t_x, T, draws=per_member, seed=seed)
    median_orders = np.median(draws, axis=1)
    spend_draws = gg.simulate_totals(draws, x, f["repeat_mean"].to_numpy(float), seed=seed + 1)
    return {
        "p_any": bg.p_any(t_weeks, x, t_x, T),
        "orders": {"bgnbd_mean": mean_orders, "bgnbd_median": median_orders},
        "spend": {
            "bgnbd_gg_mean": mean_orders * value,
            "bgnbd_gg_median": median_orders * value,
            "bgnbd_gg_sim_median": np.median(spend_draws, axis=1),
        },
        "draws": draws,
        "spend_draws": spend_draws,
        "value": value,
    }


def _rearrange(values: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``values`` (e.g. BG/NBD's probabilities) handed out in the order of ``score``."""
    order = np.argsort(np.argsort(score, kind="stable"), kind="stable")
    return np.sort(values)[order]


def hybrid_median(draws: np.ndarray, p_any: np.ndarray) -> np.ndarray:
    """The median of a mixture: no order with probability 1 - ``p_any`` (the blended
    ranker's), else BG/NBD's simulated count given at least one order.

    The median is 0 when ``p_any`` < 0.5; otherwise it is the quantile
    (0.5 - p0) / (1 - p0) of the positive draws (1 when there are none).
    """
    p0 = 1 - np.clip(p_any, 0, 1)
    ordered = np.sort(draws, axis=1)
    n_draws = draws.shape[1]
    zeros = (ordered == 0).sum(axis=1)
    positive = n_draws - zeros
    q = np.clip((0.5 - p0) / np.maximum(1 - p0, 1e-9), 0, 1)
    index = np.minimum(zeros + np.floor(q * positive).astype(int), n_draws - 1)
    value = ordered[np.arange(len(draws)), index].astype(float)
    # No positive draw at all: one order (for spend draws, callers see the mean instead).
    value = np.where(positive > 0, value, 1.0)
    return np.where(p0 >= 0.5, 0.0, value)


def predict(
    orders: Orders, as_of: float, horizon_days: float, *, seed: int = 0, threads: int = 1
) -> Prediction:
    """Scores for every member at ``as_of`` (days) over ``horizon_days``; see the module doc.

    ``orders`` must hold nothing after ``as_of`` (the caller filters; asserted).
    ``threads`` caps the OpenMP/BLAS threads: the models are small, and on a busy
    machine OpenMP's spinning threads made a 4-second scoring take 25 seconds.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        return _predict(orders, as_of, horizon_days, seed=seed)


def _predict(orders: Orders, as_of: float, horizon_days: float, *, seed: int = 0) -> Prediction:
    started = time.perf_counter()
    if len(orders.day) and orders.day.max() > as_of + 1e-9:
        raise ValueError("orders after the as-of date were passed to predict()")
    H = float(horizon_days)
    now = features_at(orders, as_of)
    present = now["present"].to_numpy()
    bg, gg = fit_models(now)
    add_model_features(now, bg, gg, H / WEEK)
    final_bg = _bg_candidates(now, bg, gg, H / WEEK, seed)
    span = as_of - float(orders.day.min()) if len(orders.day) else 0.0
    W = min(H, span / 3.0)
    result = Prediction(
        p_return=final_bg["p_any"],
        expected_orders=final_bg["orders"]["bgnbd_median"],
        expected_spend=final_bg["spend"]["bgnbd_gg_median"],
        present=present,
        window_days=W,
        bg=bg,
        gg=gg,
    )
    result.chosen = {"p_return": "bgnbd", "orders": "bgnbd_median", "spend": "bgnbd_gg_median"}
    c1, c2 = as_of - W, as_of - 2 * W
    if W < 14 or features_at(orders, c2)["present"].sum() < 200:
        result.seconds = time.perf_counter() - started
        return result  # too little history for a supervised model: BG/NBD only

    # Temporal validation: train at c2 (labels (c2, c1]), evaluate at c1 (labels (c1, as_of]).
    train_x, train_y = _stack(orders, [c2], W)
    # Rows of a window half as long at the latest cutoff whose labels end at c1 (more
    # mature members than at c2): extra training rows of the rankers (sliding cutoffs),
    # and the horizon transfer and scaling checks.
    half = W / 2
    short_x, short_y = _stack(orders, [c1 - half], half)
    rank_x, rank_y = [train_x, short_x], [train_y, short_y]
    for share in SLIDING[1:]:
        extra_x, extra_y = _stack(orders, [c1 - share * W], share * W)
        rank_x.append(extra_x)
        rank_y.append(extra_y)
    rank_x, rank_y = _concat(rank_x), _concat(rank_y)
    f1 = features_at(orders, c1)
    bg1, gg1 = fit_models(f1)
    add_model_features(f1, bg1, gg1, W / WEEK)
    keep1 = f1["present"].to_numpy()
    val_x = f1.loc[keep1, ALL_FEATURES]
    val_y = labels(orders, c1, as_of).loc[keep1]
    cands = _bg_candidates(f1.loc[keep1], bg1, gg1, W / WEEK, seed)
    scores: dict[str, dict[str, float]] = {"p_return": {}, "orders": {}, "spend": {}}
    scores["p_return"]["bgnbd"] = auc(val_y["any"], cands["p_any"])
    rank_bg = pd.Series(cands["p_any"]).rank(pct=True).to_numpy()
    ranks = {}
    for ranker in RANKERS:
        p_val = _ranker_fit(ranker, rank_x, rank_y["any"], seed).predict_proba(
            _ranker_x(ranker, val_x)
        )[:, 1]
        rank = ranks[ranker] = pd.Series(p_val).rank(pct=True).to_numpy()
        for w in BLEND_WEIGHTS:
            scores["p_return"][f"{ranker}_{w:g}"] = auc(val_y["any"], (1 - w) * rank_bg + w * rank)
    for target, label in (("orders", "orders"), ("spend", "spend")):
        for name, pred in cands[target].items():
            scores[target][name] = mae(val_y[label], pred)
        for loss in REGRESSION_LOSSES:
            model = _hgb(loss, seed=seed).fit(train_x[FEATURES], train_y[label])
            pred = np.clip(model.predict(val_x[FEATURES]), 0, None)
            scores[target][f"hgb_{loss}"] = mae(val_y[label], pred)
    result.validation = scores
    eligible = {
        name: value
        for name, value in scores["p_return"].items()
        if value >= scores["p_return"]["bgnbd"] + BLEND_MARGIN
    }
    if H > W and eligible:
        # Horizon transfer check: rankers trained on a window half as long (W/2, cutoff
        # c1 - W/2) and scored on the W-window labels at c1 — the same stretch (x2) as
        # training on W and predicting a longer horizon. A blend is kept only if it also
        # beats BG/NBD that way.
        transfer = scores["p_return_transfer"] = {}
        for ranker in RANKERS:
            p_val = _ranker_fit(ranker, short_x, short_y["any"], seed).predict_proba(
                _ranker_x(ranker, val_x)
            )[:, 1]
            rank = pd.Series(p_val).rank(pct=True).to_numpy()
            for w in BLEND_WEIGHTS:
                transfer[f"{ranker}_{w:g}"] = auc(val_y["any"], (1 - w) * rank_bg + w * rank)
        eligible = {
            name: value
            for name, value in eligible.items()
            if transfer.get(name, 0) >= scores["p_return"]["bgnbd"] + BLEND_MARGIN
        }
    # BG/NBD's order, its ties broken by the classifier, unless a blend wins by the margin.
    pick_p = max(eligible, key=eligible.get) if eligible else "hgb_1e-06"
    # The hybrid median: BG/NBD's counts, P(no order) from the chosen blend.
    ranker, weight = pick_p.split("_")
    blend_val = (1 - float(weight)) * rank_bg + float(weight) * ranks[ranker]
    hybrid = hybrid_median(cands["draws"], _rearrange(cands["p_any"], blend_val))
    scores["orders"]["hybrid_median"] = mae(val_y["orders"], hybrid)
    scores["spend"]["hybrid_gg_median"] = mae(val_y["spend"], hybrid * cands["value"])
    p_blend = _rearrange(cands["p_any"], blend_val)
    scores["spend"]["hybrid_gg_sim_median"] = mae(
        val_y["spend"], hybrid_median(cands["spend_draws"], p_blend)
    )
    pick_o = min(scores["orders"], key=scores["orders"].get)
    pick_s = min(scores["spend"], key=scores["spend"].get)
    if H > W:
        # Longer-window check of BG/NBD's mean against its median: both need no training,
        # so they are compared over L = min(H, S/2) from as_of - L as well; when the mean
        # wins there (heavy buyers: the count's distribution is no longer mostly zeros),
        # the mean is used.
        L = min(H, span / 2.0)
        fl = features_at(orders, as_of - L)
        keep_l = fl["present"].to_numpy()
        bgl, ggl = fit_models(fl)
        long_c = _bg_candidates(fl.loc[keep_l], bgl, ggl, L / WEEK, seed)
        long_y = labels(orders, as_of - L, as_of).loc[keep_l]
        scores["long_window"] = {
            "bgnbd_mean": mae(long_y["orders"], long_c["orders"]["bgnbd_mean"]),
            "bgnbd_median": mae(long_y["orders"], long_c["orders"]["bgnbd_median"]),
            "bgnbd_gg_mean": mae(long_y["spend"], long_c["spend"]["bgnbd_gg_mean"]),
            "bgnbd_gg_sim_median": mae(long_y["spend"], long_c["spend"]["bgnbd_gg_sim_median"]),
        }
        # Scaling check of the regressors: trained on W/2 (cutoff c1 - W/2), applied at c1
        # and scaled to W by BG/NBD's ratio E[X(W)]/E[X(W/2)] or linearly (x2), against the
        # labels of W; "direct" is the model trained on W itself (the validation score).
        f1h = f1.copy()
        add_model_features(f1h, bg1, gg1, half / WEEK)
        x1, tx1, T1 = (f1.loc[keep1, c].to_numpy(float) for c in ("x", "t_x", "T"))
        e_w, e_h = bg1.expected(W / WEEK, x1, tx1, T1), bg1.expected(half / WEEK, x1, tx1, T1)
        ratio1 = np.where(e_h > 1e-9, e_w / np.maximum(e_h, 1e-9), 2.0)
        scaling = scores["scaling"] = {}
        for target, label in (("orders", "orders"), ("spend", "spend")):
            model = _hgb("absolute_error", seed=seed).fit(short_x[FEATURES], short_y[label])
            pred = np.clip(model.predict(f1h.loc[keep1, FEATURES]), 0, None)
            scaling[f"{target}_ratio"] = mae(val_y[label], pred * ratio1)
            scaling[f"{target}_linear"] = mae(val_y[label], pred * 2.0)
            scaling[f"{target}_direct"] = scores[target]["hgb_absolute_error"]
            result.scaling[target] = (
                "linear" if scaling[f"{target}_linear"] < scaling[f"{target}_ratio"] else "ratio"
            )
        long = scores["long_window"]
        if long["bgnbd_mean"] < long["bgnbd_median"]:
            pick_o = "bgnbd_mean"
        if long["bgnbd_gg_mean"] < long["bgnbd_gg_sim_median"]:
            pick_s = "bgnbd_gg_mean"
    result.chosen = {"p_return": pick_p, "orders": pick_o, "spend": pick_s}

    # Final models: trained on both cutoffs, applied at as_of, scaled from W to H.
    needs_hgb = pick_p != "bgnbd" or pick_o.startswith("hgb") or pick_s.startswith("hgb")
    if needs_hgb:
        fit_x, fit_y = _stack(orders, [c2, c1], W)
        rank_x, rank_y = [fit_x], [fit_y]
        for share in SLIDING:
            late_x, late_y = _stack(orders, [as_of - share * W], share * W)
            rank_x.append(late_x)
            rank_y.append(late_y)
        rank_x, rank_y = _concat(rank_x), _concat(rank_y)
        now_w = now.copy()
        add_model_features(now_w, bg, gg, W / WEEK)  # the features as trained (window W)
        x_now = now_w.loc[present, ALL_FEATURES]
        x, t_x, T = (now.loc[present, c].to_numpy(float) for c in ("x", "t_x", "T"))
        exp_h = bg.expected(H / WEEK, x, t_x, T)
        exp_w = bg.expected(W / WEEK, x, t_x, T)
        ratio = np.where(exp_w > 1e-9, exp_h / np.maximum(exp_w, 1e-9), H / max(W, 1e-9))
        if pick_p != "bgnbd":
            ranker, weight = pick_p.split("_")
            w = float(weight)
            model = _ranker_fit(ranker, rank_x, rank_y["any"], seed)
            # The logistic model's BG/NBD logit is the horizon's (its other figures are
            # corrections learnt on window W); the trees see the window-W features.
            x_rank = now.loc[present, ALL_FEATURES] if ranker != "hgb" else x_now
            p_w = model.predict_proba(_ranker_x(ranker, x_rank))[:, 1]
            # The blend ranks members; the values are BG/NBD's probabilities for the horizon
            # (same distribution, the blend's order), so p_return stays calibrated to H.
            bg_p = final_bg["p_any"][present]
            blend = (1 - w) * pd.Series(bg_p).rank(pct=True).to_numpy()
            blend += w * pd.Series(p_w).rank(pct=True).to_numpy()
            order = np.argsort(np.argsort(blend, kind="stable"), kind="stable")
            p = np.zeros(len(now))
            p[present] = np.sort(bg_p)[order]
            result.p_return = p
            hybrid = hybrid_median(final_bg["draws"], p)
            final_bg["orders"]["hybrid_median"] = hybrid
            final_bg["spend"]["hybrid_gg_median"] = hybrid * final_bg["value"]
            final_bg["spend"]["hybrid_gg_sim_median"] = hybrid_median(final_bg["spend_draws"], p)
        for target, label in (("orders", "orders"), ("spend", "spend")):
            pick = result.chosen[target]
            if not pick.startswith("hgb"):
                continue
            model = _hgb(pick[4:], seed=seed).fit(fit_x[FEATURES], fit_y[label])
            out = np.zeros(len(now))
            scale = ratio if result.scaling.get(target, "ratio") == "ratio" else H / W
            out[present] = np.clip(model.predict(x_now[FEATURES]), 0, None) * (
                scale if H > W else 1
            )
            if target == "orders":
                result.expected_orders = out
            else:
                result.expected_spend = out
    if not result.chosen["orders"].startswith("hgb"):
        result.expected_orders = final_bg["orders"][result.chosen["orders"]]
    if not result.chosen["spend"].startswith("hgb"):
        result.expected_spend = final_bg["spend"][result.chosen["spend"]]
    result.seconds = time.perf_counter() - started
    return result


# --- baselines (for the bench and the tests) ---------------------------------------------


def baseline_bgnbd(orders: Orders, as_of: float, horizon_days: float):
    """BG/NBD + Gamma-Gamma fitted at ``as_of``: P(alive)-based p, mean orders and spend."""
    f = features_at(orders, as_of)
    bg, gg = fit_models(f)
    x, t_x, T = (f[c].to_numpy(float) for c in ("x", "t_x", "T"))
    t = horizon_days / WEEK
    orders_ = bg.expected(t, x, t_x, T)
    value = gg.expected_value(x, f["repeat_mean"].to_numpy(float))
    return bg.p_any(t, x, t_x, T), orders_, orders_ * value


def baseline_gbm_rfm(
    orders: Orders, as_of: float, horizon_days: float, seed: int = 0, loss: str = "squared_error"
):
    """Gradient boosting on RFM features (recency, frequency, monetary, age), squared
    loss, trained on the calibration split ``as_of - W`` with labels in the W after it
    (W = min(H, span/2)), applied at ``as_of`` and scaled linearly by H / W. ``loss``
    "absolute_error" gives the median-predicting variant (stronger on MAE)."""
    H = float(horizon_days)
    span = as_of - float(orders.day.min())
    W = min(H, span / 2)
    cut = as_of - W
    f = features_at(orders, cut)
    lab = labels(orders, cut, as_of)
    keep = f["present"].to_numpy()
    X = f.loc[keep, RFM_FEATURES]
    now = features_at(orders, as_of)
    Xn = now[RFM_FEATURES]
    scale = H / W
    clf = _hgb("log_loss", classifier=True, seed=seed).fit(X, lab.loc[keep, "any"])
    reg_o = _hgb(loss, seed=seed).fit(X, lab.loc[keep, "orders"])
    reg_s = _hgb(loss, seed=seed).fit(X, lab.loc[keep, "spend"])
    return (
        clf.predict_proba(Xn)[:, 1],
        np.clip(reg_o.predict(Xn), 0, None) * scale,
        np.clip(reg_s.predict(Xn), 0, None) * scale,
    )


def horizon_weeks(days: float) -> float:
    return days / WEEK


def is_finite(value: float) -> bool:
    return math.isfinite(value)
