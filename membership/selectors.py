"""Reads of membership, including the contracts other apps call (promotions, recommend,
orders): ``member_audience``, ``audience_choices``, ``segment_member_ids``,
``points_multiplier``, ``restricted_product_ids`` and ``purchase_restrictions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, JSONField, Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Tag
from catalog.models import Brand, Category
from membership import memo
from membership.models import (
    MemberProfile,
    MemberScore,
    Membership,
    Segment,
    SegmentMembership,
    Tier,
    TierChange,
)

ONE = Decimal("1")
PROFILE_TAG_VALUES = {
    "lifecycle": ("prospect", "new", "active", "at_risk", "lapsed"),
    "activity": ("high", "medium", "low", "dormant"),
    "price": ("budget", "mid", "premium", "luxury"),
    "discount": ("low", "medium", "high"),
    "sentiment": ("positive", "neutral", "negative"),
}


def _member_id(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def membership_for(user) -> Membership | None:
    """The member's membership with its tier (None when they have none yet)."""
    member_id = _member_id(user)
    if member_id is None:
        return None
    return Membership.objects.select_related("tier").filter(user_id=member_id).first()


def member_tier(user) -> Tier | None:
    """The member's tier, or the entry tier when they have no membership row yet (one query,
    once per request: pricing, the audience hook and recommend's exclusions share it through
    ``membership.memo``)."""
    member_id = _member_id(user)
    if member_id is None:
        return None
    return memo.remembered(("tier", member_id), lambda: _read_member_tier(member_id))


def _read_member_tier(member_id: int) -> Tier | None:
    entry = Tier.objects.filter(is_active=True).order_by("rank").values("pk")[:1]
    mine = Membership.objects.filter(user_id=member_id, tier=OuterRef("pk"))
    return (
        Tier.objects.filter(Q(memberships__user_id=member_id) | Q(pk=Subquery(entry)))
        .annotate(mine=Exists(mine))
        .order_by("-mine", "rank")
        .first()
    )


def tiers_list() -> list[Tier]:
    return list(Tier.objects.filter(is_active=True).order_by("rank"))


def tier_history(user, limit: int = 20) -> list[TierChange]:
    return list(
        TierChange.objects.filter(user_id=_member_id(user))
        .select_related("from_tier", "to_tier")
        .order_by("-created_at", "-id")[:limit]
    )


def profile_for(user) -> MemberProfile | None:
    member_id = _member_id(user)
    if member_id is None:
        return None
    return MemberProfile.objects.filter(user_id=member_id).first()


def score_for(user) -> MemberScore | None:
    return MemberScore.objects.filter(user_id=_member_id(user)).first()


# --- contracts ---------------------------------------------------------------------------


def member_audience(user) -> dict:
    """{"tier", "tier_rank", "segments", "tags"} of a member, for promotion targeting.

    Anonymous visitors get no tier and empty lists. ``segments`` holds the member's
    RFM segment and cluster codes; ``tags`` their profile tags plus their staff tags
    (``staff:<slug>``, read live so a tag staff just added applies at once).

    Three queries (the tier, shared with pricing; profile and score in one; staff tags),
    once per request (``membership.memo``).
    """
    member_id = _member_id(user)
    if member_id is None:
        return {"tier": None, "tier_rank": None, "segments": [], "tags": []}
    tier = member_tier(user)
    segments, tags = memo.remembered(("audience", member_id), lambda: _read_audience(member_id))
    return {
        "tier": tier.code if tier else None,
        "tier_rank": tier.rank if tier else None,
        "segments": list(segments),
        "tags": list(tags),
    }


def _read_audience(member_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(segments, tags) without the tier: profile and score in one query, staff tags."""
    profile = MemberProfile.objects.filter(user_id=member_id)
    score = MemberScore.objects.filter(user_id=member_id)
    row = (
        get_user_model()
        .objects.filter(pk=member_id)
        .annotate(
            has_profile=Exists(profile),
            rfm_segment=Subquery(profile.values("rfm_segment")[:1]),
            cluster=Subquery(profile.values("cluster")[:1]),
            profile_data=Subquery(profile.values("data")[:1], output_field=JSONField()),
            has_score=Exists(score),
            at_risk=Subquery(score.values("at_risk")[:1]),
            high_potential=Subquery(score.values("high_potential")[:1]),
        )
        .values_list(
            "has_profile",
            "rfm_segment",
            "cluster",
            "profile_data",
            "has_score",
            "at_risk",
            "high_potential",
        )
        .first()
    )
    segments, tags = [], []
    if row and row[0]:
        segments = [code for code in row[1:3] if code]
        tags = [t for t in (row[3] or {}).get("tags", []) if not t.startswith("staff:")]
    if row and row[4]:
        segments += [code for code, on in zip(SCORE_SEGMENTS, row[5:7], strict=True) if on]
    staff = Tag.objects.filter(profiles__user_id=member_id).order_by("slug")
    tags += [f"staff:{slug}" for slug in staff.values_list("slug", flat=True)]
    return tuple(segments), tuple(tags)


def audience_choices() -> dict:
    """Choices for promotion forms: tiers, segments and tags as (code, label) pairs."""
    tiers = [(t.code, t.display_name) for t in tiers_list()]
    segments = [
        (s.code, f"{s.name} ({s.get_kind_display()})")
        for s in Segment.objects.filter(is_active=True).order_by("kind", "code")
    ]
    segments += [
        ("churn_risk", _("Churn risk (prediction)")),
        ("high_potential", _("High potential (prediction)")),
    ]
    tags = [
        (f"{kind}:{value}", f"{kind}: {value}")
        for kind, values in PROFILE_TAG_VALUES.items()
        for value in values
    ]
    tags += [
        (f"likes:{slug}", _("likes %(name)s") % {"name": name})
        for slug, name in Category.objects.filter(is_active=True).values_list("slug", "name")
    ]
    tags += [
        (f"brand:{slug}", _("brand %(name)s") % {"name": name})
        for slug, name in Brand.objects.filter(is_active=True).values_list("slug", "name")
    ]
    tags += [
        (f"staff:{slug}", _("staff tag %(name)s") % {"name": name})
        for slug, name in Tag.objects.values_list("slug", "name")
    ]
    return {"tiers": tiers, "segments": segments, "tags": tags}


# Segments from the loyalty scores (``MemberScore``), for targeting with offers.
SCORE_SEGMENTS = {"churn_risk": "at_risk", "high_potential": "high_potential"}


def segment_member_ids(segment_code: str) -> Iterable[int]:
    """User ids of the members of a segment (RFM or cluster code, or a score segment:
    ``churn_risk``, ``high_potential``); empty when unknown."""
    if segment_code in SCORE_SEGMENTS:
        flag = SCORE_SEGMENTS[segment_code]
        return MemberScore.objects.filter(**{flag: True}).values_list("user_id", flat=True)
    return SegmentMembership.objects.filter(
        segment__code=segment_code, segment__is_active=True
    ).values_list("user_id", flat=True)


def points_multiplier(user) -> Decimal:
    """The tier's points multiplier (1 without a tier)."""
    tier = member_tier(user)
    return tier.points_multiplier if tier is not None else ONE


EXCLUSIVES_CACHE_KEY = "membership:exclusive-min-rank"


def _exclusive_min_rank(*, fresh: bool = False) -> dict[int, int]:
    """{product id: lowest active tier rank it is exclusive to}, once per request.

    What pages show reads it through the cache (``MEMBERSHIP_EXCLUSIVES_CACHE_SECONDS``;
    every change of a tier or of its exclusive products deletes the key, see
    ``receivers``); ``fresh`` (what may be bought) always reads the database.
    """
    if fresh:
        return memo.remembered("exclusive_min_rank", _read_exclusive_min_rank)
    return memo.remembered("exclusive_min_rank_cached", _cached_exclusive_min_rank)


def _cached_exclusive_min_rank() -> dict[int, int]:
    seconds = settings.MEMBERSHIP_EXCLUSIVES_CACHE_SECONDS
    if seconds <= 0:
        return _read_exclusive_min_rank()
    cached = cache.get(EXCLUSIVES_CACHE_KEY)
    if cached is None:
        cached = _read_exclusive_min_rank()
        cache.set(EXCLUSIVES_CACHE_KEY, cached, seconds)
    return cached


def forget_exclusives(*args, **kwargs) -> None:
    """Drop the cached exclusives now and when the transaction commits (signal receiver)."""
    cache.delete(EXCLUSIVES_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(EXCLUSIVES_CACHE_KEY))


def _read_exclusive_min_rank() -> dict[int, int]:
    rows = (
        Tier.exclusive_products.through.objects.filter(tier__is_active=True)
        .values("product_id")
        .annotate(rank=Min("tier__rank"))
    )
    return {r["product_id"]: r["rank"] for r in rows}


def restricted_product_ids(user) -> set[int]:
    """Products exclusive to tiers above the member's (all exclusive ones for visitors)."""
    return _restricted(user, _exclusive_min_rank())


def _restricted(user, minimum: dict[int, int]) -> set[int]:
    if not minimum:
        return set()
    tier = member_tier(user)
    rank = tier.rank if tier is not None else -1
    return {pid for pid, needed in minimum.items() if needed > rank}


def purchase_restrictions(user, product_ids: Iterable[int]) -> dict[int, str]:
    """The ``ORDERS_PURCHASE_RESTRICTION_PROVIDERS`` hook: {product id: reason}."""
    wanted = set(product_ids)
    if not wanted:
        return {}
    minimum = _exclusive_min_rank(fresh=True)
    restricted = _restricted(user, minimum) & wanted
    if not restricted:
        return {}
    tiers = {t.rank: t for t in tiers_list()}
    out = {}
    for pid in restricted:
        tier = tiers.get(minimum[pid])
        out[pid] = _("Only for %(tier)s members and above.") % {
            "tier": tier.display_name if tier else "?"
        }
    return out


# --- what members see ------------------------------------------------------------------


def privileges_of(tier: Tier) -> list[str]:
    """The tier's privileges in words (for pages and the API)."""
    from catalog.money import format_money

    out = []
    if tier.points_multiplier != ONE:
        out.append(_("%(x)s× points on every order") % {"x": tier.points_multiplier.normalize()})
    if tier.discount_percent > 0:
        out.append(_("%(p)s%% member discount") % {"p": tier.discount_percent.normalize()})
    if tier.free_shipping_threshold is not None:
        if tier.free_shipping_threshold == 0:
            out.append(_("Free shipping on every order"))
        else:
            out.append(
                _("Free shipping from %(amount)s")
                % {"amount": format_money(tier.free_shipping_threshold)}
            )
    if tier.exclusive_promotions:
        out.append(_("Exclusive promotions"))
    if tier.priority_service:
        out.append(_("Priority customer service"))
    return out


def local_day(at) -> str | None:
    """A date as the shop shows it (its time zone), ISO format; None for None."""
    return timezone.localtime(at).date().isoformat() if at else None


def membership_overview(user) -> dict:
    """Everything the membership page and ``GET me/membership/`` show, in 3 queries:
    the membership (with tier), the tier ladder, the history."""
    from catalog.money import format_money
    from membership.tiers import tier_progress

    tiers = tiers_list()
    membership = membership_for(user)
    tier = membership.tier if membership else (tiers[0] if tiers else None)
    progress = tier_progress(membership, tiers) if membership else None
    if membership is None and len(tiers) > 1:
        from membership.tiers import Progress

        nxt = tiers[1]
        progress = Progress(
            nxt,
            nxt.min_spend if nxt.min_spend > 0 else None,
            nxt.min_orders if nxt.min_orders > 0 else None,
            None,
        )
    message = ""
    if progress and progress.next_tier is not None:
        parts = {
            "tier": progress.next_tier.display_name,
            "date": local_day(progress.before) or "",
        }
        if progress.spend_missing is not None:
            parts["amount"] = format_money(progress.spend_missing)
            if progress.before:
                message = _("Spend %(amount)s more before %(date)s to reach %(tier)s.") % parts
            else:
                message = _("Spend %(amount)s more within 12 months to reach %(tier)s.") % parts
        elif progress.orders_missing is not None:
            parts["n"] = progress.orders_missing
            message = (
                ngettext(
                    "Complete %(n)s more order to reach %(tier)s.",
                    "Complete %(n)s more orders to reach %(tier)s.",
                    progress.orders_missing,
                )
                % parts
            )
    return {
        "tier": tier,
        "membership": membership,
        "privileges": privileges_of(tier) if tier else [],
        "progress": progress,
        "progress_message": message,
        "tiers": [(t, privileges_of(t)) for t in tiers],
        "history": tier_history(user),
    }


def profile_interests(data: dict) -> dict:
    """The profile's interests and the hidden ones with names in the active language
    (two queries at most): {"categories", "brands", "hidden_categories", "hidden_brands"}."""
    out = {}
    for kind, model in (("categories", Category), ("brands", Brand)):
        shown = data.get(kind) or []
        hidden = data.get(f"hidden_{kind}") or []
        ids = {row["id"] for row in shown} | set(hidden)
        rows = model.objects.filter(pk__in=ids) if ids else []
        names = {obj.pk: getattr(obj, "display_name", obj.name) for obj in rows}
        out[kind] = [{**row, "name": names.get(row["id"], row.get("name", ""))} for row in shown]
        out[f"hidden_{kind}"] = [(pk, names.get(pk, f"#{pk}")) for pk in hidden]
    return out
