"""The member's audience and points multiplier, read through settings hooks.

The membership app (tiers, segments, profile tags) is wired in by the lead with
these settings; promotions never imports it. Each setting is a dotted path or
empty:

- ``PROMOTIONS_AUDIENCE_PROVIDER``: ``callable(user) -> {"tier": str|None,
  "tier_rank": int|None, "segments": list[str], "tags": list[str]}``; empty:
  nobody has a tier, segment or tag.
- ``PROMOTIONS_AUDIENCE_CHOICES_PROVIDER``: ``callable() -> {"tiers": [(code,
  label)], "segments": [...], "tags": [...]}`` for the admin forms; empty: codes
  are typed as text.
- ``PROMOTIONS_POINTS_MULTIPLIER_PROVIDER``: ``callable(user) -> Decimal``
  (tier multiplier of earned points); empty: 1.
- ``PROMOTIONS_SEGMENT_MEMBERS_PROVIDER``: ``callable(segment_code) -> iterable
  of user ids`` for issuing coupons to a segment; empty: no members.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Audience:
    tier: str | None = None
    tier_rank: int | None = None
    segments: frozenset[str] = field(default_factory=frozenset)
    tags: frozenset[str] = field(default_factory=frozenset)


NOBODY = Audience()


def _hook(name: str):
    path = getattr(settings, name, "") or ""
    return import_string(path) if path else None


def member_audience(user) -> Audience:
    """The member's tier, rank, segments and tags (empty for visitors or without a provider)."""
    provider = _hook("PROMOTIONS_AUDIENCE_PROVIDER")
    if provider is None or user is None or not getattr(user, "is_authenticated", False):
        return NOBODY
    data = provider(user) or {}
    rank = data.get("tier_rank")
    return Audience(
        tier=data.get("tier") or None,
        tier_rank=int(rank) if rank is not None else None,
        segments=frozenset(str(s) for s in data.get("segments") or ()),
        tags=frozenset(str(t) for t in data.get("tags") or ()),
    )


def audience_matches(scoped, audience: Audience) -> bool:
    """Whether a promotion or campaign (``AudienceScoped``) is for this audience.

    Every non-empty scope must match: the tier among ``tier_codes``, a rank at
    least ``min_tier_rank``, a segment among ``segment_codes``, a tag among
    ``tag_codes``.
    """
    if scoped.tier_codes and audience.tier not in set(scoped.tier_codes):
        return False
    if scoped.min_tier_rank is not None and (
        audience.tier_rank is None or audience.tier_rank < scoped.min_tier_rank
    ):
        return False
    if scoped.segment_codes and not audience.segments & set(scoped.segment_codes):
        return False
    return not (scoped.tag_codes and not audience.tags & set(scoped.tag_codes))


def audience_choices() -> dict[str, list[tuple[str, str]]]:
    """Choices for the admin forms; empty lists when no provider is configured."""
    provider = _hook("PROMOTIONS_AUDIENCE_CHOICES_PROVIDER")
    data = (provider() or {}) if provider else {}
    return {key: [tuple(c) for c in data.get(key) or ()] for key in ("tiers", "segments", "tags")}


def points_multiplier(user) -> Decimal:
    """The member's earn multiplier (tier privilege); 1 without a provider."""
    provider = _hook("PROMOTIONS_POINTS_MULTIPLIER_PROVIDER")
    if provider is None or user is None:
        return Decimal("1")
    value = provider(user)
    return Decimal(str(value)) if value is not None else Decimal("1")


def segment_members(code: str) -> Iterable[int]:
    """User ids of a segment (coupons issued to a segment); none without a provider."""
    provider = _hook("PROMOTIONS_SEGMENT_MEMBERS_PROVIDER")
    return provider(code) if provider else ()
