"""Review sentiment: a text classifier trained on the shop's own rated reviews.

Labels come from the ratings: 4-5 stars is positive, 1-2 negative, 3 is left
out. Features are TF-IDF character n-grams within word boundaries
(``analyzer="char_wb"``), which need no tokeniser and so work the same for
Chinese (no spaces between words) and English; a class-balanced logistic
regression turns them into P(positive). The score is that probability, in
[0, 1] with three decimals.

Training (``sentiment_fit``) keeps the newest 20 % of the labelled reviews as a
time-ordered hold-out, chooses C and the n-gram range by stratified
cross-validation on the older 80 % only (``GridSearchCV`` over the whole
pipeline, so the vocabulary and IDF are refitted inside every fold), reports
hold-out accuracy and ROC AUC next to the majority-class baseline, then refits
the chosen settings on every labelled review for the stored model. The label
is a function of the rating, so the rating itself would "predict" it
perfectly; the classifier earns its keep on the text alone, which is what a
rating-free comparison (majority class, prior-weighted guess) measures.

Before ``MIN_LABELLED_REVIEWS`` labelled reviews with at least
``MIN_PER_CLASS`` of each class exist, nothing is trained and every review's
score is its rating: ``(rating - 1) / 4`` with ``sentiment_source="rating"``.

The fitted pipeline is stored as joblib bytes in ``SentimentModel.blob`` (our
own database, never user input); each process keeps the unpickled active
model in memory, keyed by the model id, so a new model is picked up by the
next call after it is activated.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import joblib
import numpy as np
import sklearn
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from orders.models import Review, SentimentModel

logger = logging.getLogger(__name__)

MIN_LABELLED_REVIEWS = 40
MIN_PER_CLASS = 10
HOLDOUT_FRACTION = 0.2
MAX_CV_FOLDS = 5
# The newest labelled reviews a training reads at most (bounded memory and time).
MAX_TRAINING_REVIEWS = 200_000
# Trained models kept (the active one and the previous ones, for comparison in admin).
MODELS_KEPT = 5
POSITIVE_MIN_RATING = 4
NEGATIVE_MAX_RATING = 2
PARAM_GRID = {
    "clf__C": [0.1, 1.0, 10.0],
    "tfidf__ngram_range": [(1, 2), (1, 3)],
}
SCORE_PLACES = Decimal("0.001")
RESCORE_BATCH = 1000


# --- scores from the rating ------------------------------------------------------------------


def sentiment_from_rating(rating: int) -> Decimal:
    """The fallback score of a rating 1..5: ``(rating - 1) / 4`` (0, 0.25, 0.5, 0.75, 1)."""
    return (Decimal(int(rating) - 1) / Decimal(4)).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def review_text(title: str, body: str) -> str:
    """The text the classifier reads: title and body ("" when both are blank)."""
    return f"{(title or '').strip()}\n{(body or '').strip()}".strip()


def rating_label(rating: int) -> int | None:
    """1 positive (4-5 stars), 0 negative (1-2), None for 3 stars (not a label)."""
    if rating >= POSITIVE_MIN_RATING:
        return 1
    if rating <= NEGATIVE_MAX_RATING:
        return 0
    return None


# --- fitting (no database) --------------------------------------------------------------------


def sentiment_pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 3),
                    sublinear_tf=True,
                    lowercase=True,
                    min_df=1,
                    max_features=300_000,
                    dtype=np.float32,
                ),
            ),
            (
                "clf",
                LogisticRegression(class_weight="balanced", solver="liblinear", max_iter=1000),
            ),
        ]
    )


@dataclass
class FitResult:
    """A fitted pipeline and how it did on the time-ordered hold-out."""

    pipeline: Pipeline
    best_params: dict
    cv_folds: int
    cv_auc: float
    n_train: int
    n_holdout: int
    n_positive: int
    n_negative: int
    accuracy: float
    auc: float | None
    baseline_accuracy: float  # always predict the training part's majority class
    guess_accuracy: float  # guess at random with the training part's class shares
    extra: dict = field(default_factory=dict)

    def as_params(self) -> dict:
        """The JSON stored in ``SentimentModel.params``."""
        params = dict(self.best_params)
        if "tfidf__ngram_range" in params:
            params["tfidf__ngram_range"] = list(params["tfidf__ngram_range"])
        return {
            "best": params,
            "cv_folds": self.cv_folds,
            "cv_auc": round(self.cv_auc, 4),
            "train_size": self.n_train,
            "holdout_size": self.n_holdout,
            "positives": self.n_positive,
            "negatives": self.n_negative,
            "holdout_auc": None if self.auc is None else round(self.auc, 4),
            "guess_accuracy": round(self.guess_accuracy, 4),
            "sklearn": sklearn.__version__,
            **self.extra,
        }


def has_enough_labels(labels: Sequence[int]) -> bool:
    positives = sum(1 for y in labels if y == 1)
    negatives = len(labels) - positives
    return (
        len(labels) >= MIN_LABELLED_REVIEWS
        and positives >= MIN_PER_CLASS
        and negatives >= MIN_PER_CLASS
    )


def sentiment_fit(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    param_grid: dict | None = None,
    refit_all: bool = True,
    random_state: int = 0,
) -> FitResult | None:
    """Fit the classifier on ``texts`` (oldest first) with 0/1 ``labels``.

    Returns None when there are too few labels (see the module docstring) or
    when the older 80 % lacks two examples of each class for cross-validation.
    With ``refit_all`` the returned pipeline is refitted on all the data with
    the chosen settings; otherwise it is the one trained on the older 80 %.
    """
    texts, labels = list(texts), [int(y) for y in labels]
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    if not has_enough_labels(labels):
        return None
    n_holdout = max(1, math.ceil(len(texts) * HOLDOUT_FRACTION))
    split = len(texts) - n_holdout
    x_train, y_train = texts[:split], labels[:split]
    x_test, y_test = texts[split:], labels[split:]
    smaller_class = min(sum(y_train), len(y_train) - sum(y_train))
    folds = min(MAX_CV_FOLDS, smaller_class)
    if folds < 2:
        return None

    search = GridSearchCV(
        sentiment_pipeline(),
        param_grid or PARAM_GRID,
        scoring="roc_auc",
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state),
        n_jobs=1,
        refit=True,
        error_score="raise",
    )
    search.fit(x_train, y_train)
    model = search.best_estimator_
    predicted = model.predict(x_test)
    accuracy = float(accuracy_score(y_test, predicted))
    auc = None
    if len(set(y_test)) == 2:
        auc = float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
    share_pos = sum(y_train) / len(y_train)
    majority = 1 if share_pos >= 0.5 else 0
    baseline = sum(1 for y in y_test if y == majority) / len(y_test)
    test_pos = sum(y_test) / len(y_test)
    guess = share_pos * test_pos + (1 - share_pos) * (1 - test_pos)

    if refit_all:
        model = sentiment_pipeline().set_params(**search.best_params_)
        model.fit(texts, labels)
    return FitResult(
        pipeline=model,
        best_params=dict(search.best_params_),
        cv_folds=folds,
        cv_auc=float(search.best_score_),
        n_train=len(x_train),
        n_holdout=len(x_test),
        n_positive=sum(labels),
        n_negative=len(labels) - sum(labels),
        accuracy=accuracy,
        auc=auc,
        baseline_accuracy=baseline,
        guess_accuracy=guess,
    )


def pipeline_dumps(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return buffer.getvalue()


def pipeline_loads(blob: bytes | memoryview) -> Pipeline:
    return joblib.load(io.BytesIO(bytes(blob)))


# --- training on the shop's reviews -------------------------------------------------------


def labelled_reviews() -> tuple[list[str], list[int]]:
    """Texts and labels of the visible, non-3-star reviews with text, oldest first.

    Hidden reviews are left out: staff hide spam and abuse, which would teach
    the classifier noise.
    """
    rows = list(
        Review.objects.filter(is_hidden=False)
        .filter(Q(rating__lte=NEGATIVE_MAX_RATING) | Q(rating__gte=POSITIVE_MIN_RATING))
        .exclude(title="", body="")
        .order_by("-created_at", "-id")
        .values_list("title", "body", "rating")[:MAX_TRAINING_REVIEWS]
    )
    rows.reverse()
    texts, labels = [], []
    for title, body, rating in rows:
        text = review_text(title, body)
        if text:
            texts.append(text)
            labels.append(rating_label(rating))
    return texts, labels


def _data_fingerprint() -> str:
    """Changes whenever a review is added, edited, hidden or shown."""
    stats = Review.objects.aggregate(
        n=Count("id"),
        hidden=Count("id", filter=Q(is_hidden=True)),
        last_id=Max("id"),
        last_update=Max("updated_at"),
    )
    raw = "|".join(str(stats[k]) for k in ("n", "hidden", "last_id", "last_update"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def active_model() -> SentimentModel | None:
    """The active model's row without its blob (newest wins if two are ever active)."""
    return (
        SentimentModel.objects.filter(is_active=True)
        .defer("blob")
        .order_by("-trained_at", "-id")
        .first()
    )


def sentiment_train(*, force: bool = False) -> SentimentModel | None:
    """Train on the shop's rated reviews and make the result the only active model.

    Returns the new ``SentimentModel``, or None when there are not enough
    labelled reviews, or (unless ``force``) when no review changed since the
    active model was trained, so a repeated run does not store a duplicate.
    Older models beyond ``MODELS_KEPT`` are deleted.
    """
    fingerprint = _data_fingerprint()
    current = active_model()
    if not force and current is not None and current.params.get("fingerprint") == fingerprint:
        logger.info("sentiment: reviews unchanged since model %s, not retraining", current.pk)
        return None
    texts, labels = labelled_reviews()
    result = sentiment_fit(texts, labels)
    if result is None:
        logger.info("sentiment: %s labelled reviews, not enough to train", len(labels))
        return None
    result.extra["fingerprint"] = fingerprint
    blob = pipeline_dumps(result.pipeline)
    with transaction.atomic():
        model = SentimentModel.objects.create(
            trained_at=timezone.now(),
            reviews_used=len(labels),
            accuracy=result.accuracy,
            baseline_accuracy=result.baseline_accuracy,
            params=result.as_params(),
            blob=blob,
            is_active=True,
        )
        SentimentModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
        keep = list(
            SentimentModel.objects.order_by("-trained_at", "-id").values_list("pk", flat=True)[
                :MODELS_KEPT
            ]
        )
        SentimentModel.objects.exclude(pk__in=keep).delete()
    logger.info(
        "sentiment: model %s on %s reviews, hold-out accuracy %.3f (baseline %.3f), AUC %s",
        model.pk,
        len(labels),
        result.accuracy,
        result.baseline_accuracy,
        result.auc,
    )
    return model


# --- scoring ------------------------------------------------------------------------------

_loaded: dict[int, Pipeline] = {}
_load_lock = threading.Lock()


def _pipeline_for(model_id: int) -> Pipeline | None:
    """The unpickled pipeline of ``model_id``, loaded once per process."""
    pipeline = _loaded.get(model_id)
    if pipeline is not None:
        return pipeline
    with _load_lock:
        pipeline = _loaded.get(model_id)
        if pipeline is None:
            blob = SentimentModel.objects.filter(pk=model_id).values_list("blob", flat=True).first()
            if blob is None:
                return None
            pipeline = pipeline_loads(blob)
            _loaded.clear()  # only the active model is worth keeping in memory
            _loaded[model_id] = pipeline
    return pipeline


def _to_score(probability: float) -> Decimal:
    probability = min(1.0, max(0.0, float(probability)))
    return Decimal(f"{probability:.3f}")


def sentiment_score_texts(texts: Sequence[str]) -> list[Decimal] | None:
    """P(positive) of each text with the active model; None when there is no model.

    Callers give non-empty texts; a review without text is scored from its
    rating (``reviews_rescore`` does that).
    """
    model_id = (
        SentimentModel.objects.filter(is_active=True)
        .order_by("-trained_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if model_id is None:
        return None
    pipeline = _pipeline_for(model_id)
    if pipeline is None:  # deleted between the two queries
        return None
    if not texts:
        return []
    positive = list(pipeline.classes_).index(1)
    return [_to_score(p[positive]) for p in pipeline.predict_proba(list(texts))]


def reviews_rescore(ids: Iterable[int] | None = None, *, batch_size: int = RESCORE_BATCH) -> int:
    """Recompute the sentiment of the reviews ``ids`` (all reviews when None).

    With an active model, reviews with text get the model's score
    (``sentiment_source="model"``); reviews without text, or all reviews when
    there is no model, get the rating score. Rows are read in pk batches and
    only changed rows are written, with ``bulk_update``. Returns that count.
    Running it twice changes nothing the second time.
    """
    queryset = Review.objects.order_by("pk").only(
        "id", "rating", "title", "body", "sentiment", "sentiment_source"
    )
    updated = 0
    if ids is not None:
        id_list = sorted({int(i) for i in ids})
        for start in range(0, len(id_list), batch_size):
            chunk = id_list[start : start + batch_size]
            updated += _rescore_batch(list(queryset.filter(pk__in=chunk)))
        return updated
    last_pk = 0
    while batch := list(queryset.filter(pk__gt=last_pk)[:batch_size]):
        last_pk = batch[-1].pk
        updated += _rescore_batch(batch)
    return updated


def _rescore_batch(batch: list[Review]) -> int:
    texts = {r.pk: review_text(r.title, r.body) for r in batch}
    with_text = [r for r in batch if texts[r.pk]]
    scores = sentiment_score_texts([texts[r.pk] for r in with_text]) if with_text else None
    by_model = dict(zip((r.pk for r in with_text), scores, strict=True)) if scores else {}
    changed = []
    for review in batch:
        if review.pk in by_model:
            value, source = by_model[review.pk], Review.SentimentSource.MODEL
        else:
            value, source = sentiment_from_rating(review.rating), Review.SentimentSource.RATING
        if review.sentiment != value or review.sentiment_source != source:
            review.sentiment, review.sentiment_source = value, source
            changed.append(review)
    if changed:
        Review.objects.bulk_update(changed, ["sentiment", "sentiment_source"])
    return len(changed)
