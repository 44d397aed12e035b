"""Celery tasks of membership: each takes ids (or nothing), re-reads the database,
calls one service, is idempotent and has time limits.

``profile_refresh_soon`` is the coalescing entry point of the incremental profile
update: the first event of a member within ``MEMBERSHIP_PROFILE_COALESCE_SECONDS``
claims a cache key and enqueues ``refresh_member_profile`` with that countdown; the
other events of the burst find the key and enqueue nothing. The task releases the
key before reading, so an event arriving while it runs schedules the next update.
(With eager Celery the task runs at once and the key is kept until it expires:
one update per member per window.)
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from membership import profiles, tiers

logger = logging.getLogger(__name__)


def _coalesce_seconds() -> int:
    return int(getattr(settings, "MEMBERSHIP_PROFILE_COALESCE_SECONDS", 5))


def _key(user_id: int) -> str:
    return f"membership:profile-refresh:{user_id}"


def profile_refresh_soon(user_id: int) -> bool:
    """Enqueue one profile update for the member unless one is already pending."""
    seconds = _coalesce_seconds()
    if not cache.add(_key(user_id), 1, timeout=max(seconds, 1) * 4):
        return False
    refresh_member_profile.apply_async((user_id,), countdown=seconds)
    return True


@shared_task(name="membership.tasks.refresh_member_profile", soft_time_limit=60, time_limit=90)
def refresh_member_profile(user_id: int) -> bool:
    if not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        cache.delete(_key(user_id))
    return profiles.profile_refresh(user_id=user_id) is not None


@shared_task(name="membership.tasks.evaluate_member_tier", soft_time_limit=60, time_limit=90)
def evaluate_member_tier(user_id: int) -> str:
    change = tiers.tier_evaluate(user_id=user_id)
    return change.to_tier.code if change else ""


@shared_task(name="membership.tasks.review_tiers", soft_time_limit=600, time_limit=660)
def review_tiers(batch_size: int = 500, max_batches: int = 50) -> dict:
    """The periodic review, in batches; re-enqueues itself while memberships are due."""
    reviewed = remaining = 0
    for _i in range(max_batches):
        done, remaining = tiers.tiers_review_due(batch_size=batch_size)
        reviewed += done
        if not done or not remaining:
            break
    if remaining and not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        review_tiers.apply_async((batch_size, max_batches), countdown=5)
    logger.info("review_tiers: %s reviewed, %s still due", reviewed, remaining)
    return {"reviewed": reviewed, "remaining": remaining}


@shared_task(name="membership.tasks.rebuild_members", soft_time_limit=3300, time_limit=3600)
def rebuild_members(score: bool = True) -> dict:
    """Nightly: memberships from order history, every profile, segments, scores."""
    from membership.services import members_rebuild

    horizon = int(getattr(settings, "MEMBERSHIP_SCORE_HORIZON_DAYS", 180))
    out = members_rebuild(score=bool(score), horizon_days=horizon)
    logger.info("rebuild_members: %s", out)
    return {k: v for k, v in out.items() if k != "segments"}
