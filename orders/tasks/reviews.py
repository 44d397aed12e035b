"""Celery tasks: review sentiment training and scoring.

Both take ids (or nothing), re-read the database and are idempotent: running
one twice leaves the same scores, and training skips when no review changed
since the active model was trained (unless forced from the admin).
"""

from __future__ import annotations

import logging

from celery import shared_task

from orders.sentiment import reviews_rescore, sentiment_train

logger = logging.getLogger(__name__)

__all__ = ["score_review", "train_sentiment"]


@shared_task(name="orders.tasks.train_sentiment", soft_time_limit=1800, time_limit=1900)
def train_sentiment(force: bool = False) -> dict:
    """Train a new sentiment model when the reviews changed, then rescore every review
    in batches (the new model's scores, or the ratings' when none is trained)."""
    model = sentiment_train(force=bool(force))
    rescored = reviews_rescore()
    logger.info("train_sentiment: model %s, %s reviews rescored", model and model.pk, rescored)
    return {"model_id": model.pk if model else None, "rescored": rescored}


@shared_task(name="orders.tasks.score_review", soft_time_limit=60, time_limit=90)
def score_review(review_id: int) -> int:
    """Score one review with the active model (or its rating); 0 if it is gone or unchanged."""
    return reviews_rescore([review_id])
