"""Benchmark the review-sentiment classifier: hold-out accuracy and ROC AUC vs baselines.

Reads the labelled reviews (4-5 stars positive, 1-2 negative, 3 left out) of
the configured database (``DATABASE_URL``, default the SQLite file). When it
holds too few, or with ``--source generator``, the reviews come straight from
the demo generator (``browsing.demo.generator``: the ``DemoReview`` of each
order line, in time order), without touching the database. For example::

    .venv/bin/python bench/sentiment.py
    .venv/bin/python bench/sentiment.py --source generator --members 2000 --seed 42
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_bench .venv/bin/python bench/sentiment.py

Fits exactly as the ``orders.tasks.train_sentiment`` task does
(``orders.sentiment.sentiment_fit``: cross-validated grid search on the oldest
80 %, evaluated on the newest 20 %) and prints figures only: sizes, the chosen
settings, CV AUC, hold-out accuracy and AUC of the classifier next to two
rating-free baselines (always the majority class; a random guess with the
training class shares), fit seconds and scoring speed. The label is made from
the rating, so the rating itself would score 100 %: the comparison that matters
is text against the rating-free baselines.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


def _from_generator(members: int, seed: int) -> tuple[list[str], list[int], str]:
    from browsing.demo.generator import DemoConfig, generate_shop
    from orders.sentiment import rating_label, review_text

    config = DemoConfig.for_scale("small", end=datetime.now(UTC).date(), seed=seed, members=members)
    shop = generate_shop(config)
    found = sorted(
        (line.review for order in shop.orders for line in order.lines if line.review),
        key=lambda review: review.created_at,
    )
    texts, labels = [], []
    for review in found:
        label = rating_label(review.rating)
        if label is not None:
            texts.append(review_text(review.title, review.body))
            labels.append(label)
    source = (
        f"demo generator (DemoReview texts; {members} members, seed {seed}; "
        f"{len(found)} reviews incl. 3-star)"
    )
    return texts, labels, source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["auto", "db", "generator"], default="auto")
    parser.add_argument("--members", type=int, default=2000, help="generator members")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db.utils import DatabaseError

    from orders import sentiment

    texts: list[str] = []
    labels: list[int] = []
    source = ""
    if args.source in ("auto", "db"):
        try:
            texts, labels = sentiment.labelled_reviews()
            source = "database (orders.Review, visible reviews with text)"
        except DatabaseError as exc:
            print(f"database not readable ({exc.__class__.__name__}); ", end="")
        if args.source == "auto" and not sentiment.has_enough_labels(labels):
            print(f"database has {len(labels)} labelled reviews: using the demo generator")
            texts, labels = [], []
    if args.source == "generator" or (args.source == "auto" and not texts):
        started = time.perf_counter()
        texts, labels, source = _from_generator(args.members, args.seed)
        print(f"generated in {time.perf_counter() - started:.1f} s")

    print(f"source:               {source}")
    positives = sum(labels)
    print(
        f"labelled reviews:     {len(labels)} ({positives} positive, "
        f"{len(labels) - positives} negative)"
    )
    started = time.perf_counter()
    result = sentiment.sentiment_fit(texts, labels, refit_all=False)
    fit_seconds = time.perf_counter() - started
    if result is None:
        print(
            f"not trained: needs {sentiment.MIN_LABELLED_REVIEWS} labelled reviews with "
            f"{sentiment.MIN_PER_CLASS} of each class (scores fall back to the rating)"
        )
        return
    distinct = len(set(texts))
    print(f"distinct texts:       {distinct}")
    print(f"train / hold-out:     {result.n_train} / {result.n_holdout} (newest 20 % held out)")
    print(f"chosen by {result.cv_folds}-fold CV: {result.best_params} (CV AUC {result.cv_auc:.3f})")
    print(f"fit (search + refit): {fit_seconds:.1f} s")
    auc = "n/a (one class in hold-out)" if result.auc is None else f"{result.auc:.3f}"
    print("                      accuracy   ROC AUC")
    print(f"classifier (text):    {result.accuracy:8.3f}   {auc}")
    print(f"majority class:       {result.baseline_accuracy:8.3f}   0.500")
    print(f"random guess (prior): {result.guess_accuracy:8.3f}   0.500")

    sample = texts[-min(len(texts), 2000) :]
    started = time.perf_counter()
    result.pipeline.predict_proba(sample)
    per_second = len(sample) / max(time.perf_counter() - started, 1e-9)
    print(f"scoring:              {per_second:,.0f} texts/s")
    if distinct <= 50:
        print(
            "note: few distinct texts (the demo writes one body per rating and a few "
            "titles), so the text nearly gives the rating away; expect lower figures on "
            "real reviews"
        )


if __name__ == "__main__":
    main()
