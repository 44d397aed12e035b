"""Writes of membership, by topic: tiers (``membership.tiers``), profiles
(``membership.profiles``), segments (``membership.segments``) and scores
(``membership.scoring``). This module gathers the entry points callers use."""

from membership.profiles import interest_hide, profile_refresh, profiles_rebuild
from membership.scoring import members_score, scores_save
from membership.segments import segments_rebuild
from membership.tiers import memberships_rebuild, tier_evaluate, tier_review, tiers_review_due


def members_rebuild(*, score: bool = True, horizon_days: int = 180, log=None) -> dict:
    """Everything computed from history, in order: memberships, profiles, segments,
    scores. Run after ``import_orders`` (which sends no signals) and nightly."""
    from datetime import UTC, timedelta

    from django.utils import timezone

    log = log or (lambda _msg: None)
    out = {"memberships": memberships_rebuild()}
    log(f"memberships: {out['memberships']}")
    out["profiles"] = profiles_rebuild()
    log(f"profiles: {out['profiles']}")
    run = segments_rebuild()
    out["segments"] = run.sizes
    log(f"segments: k={run.params.get('k')} {run.sizes}")
    if score:
        as_of = timezone.now().astimezone(UTC).date() - timedelta(days=1)
        scored = members_score(as_of=as_of, horizon_days=horizon_days)
        out["scores"] = scores_save(scored=scored, as_of=as_of, horizon_days=horizon_days)
        log(f"scores: {out['scores']}")
    return out


__all__ = [
    "interest_hide",
    "members_rebuild",
    "memberships_rebuild",
    "profile_refresh",
    "profiles_rebuild",
    "segments_rebuild",
    "tier_evaluate",
    "tier_review",
    "tiers_review_due",
]
