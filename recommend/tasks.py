"""Celery tasks of the recommender: training (beat, admin, command) and fold-in.

Both are idempotent: training publishes a new version or refuses while another
run holds the lock; fold-in rewrites the member's list from their events.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from recommend import services
from recommend.exceptions import TrainingLocked

logger = logging.getLogger(__name__)


@shared_task(name="recommend.tasks.train_recommender", soft_time_limit=3000, time_limit=3300)
def train_recommender(triggered_by: str = "beat", budget_seconds: float | None = None) -> dict:
    """Train and publish a version; a run already in progress makes this one a no-op."""
    try:
        version = services.model_train(triggered_by=triggered_by, budget_seconds=budget_seconds)
    except TrainingLocked:
        logger.info("train_recommender: a run is in progress; skipped")
        return {"version_id": None, "skipped": True}
    return {"version_id": version.pk, "status": version.status}


@shared_task(name="recommend.tasks.fold_in_member", soft_time_limit=30, time_limit=45)
def fold_in_member(user_id: int) -> bool:
    """Fold a member's latest events into their live list (coalesced per burst)."""
    cache.delete(services.FOLD_IN_KEY.format(user_id=user_id))
    return services.member_fold_in(user_id=user_id) is not None


@shared_task(name="recommend.tasks.product_content_neighbours", soft_time_limit=120, time_limit=150)
def product_content_neighbours(product_id: int) -> bool:
    """Give a new product content-based similar items in the live version at once."""
    return services.product_cold_start(product_id=product_id)
