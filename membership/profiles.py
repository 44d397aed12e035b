"""The member profile (用户画像): one pure computation over a member's data.

``profile_compute(data, now=..., context=...)`` turns a ``MemberData`` (orders,
order lines, behaviour events, reviews, declared preferences, staff tags and the
member's own corrections) into the profile dict stored in ``MemberProfile.data``.
The incremental update (one member, seconds after an event or order:
``profile_refresh``) and the nightly full rebuild (``profiles_rebuild``, members in
batches) both load the data with ``members_data`` and call this same function, so
they give the same result for the same ``now`` (tested).

What it holds
-------------
* ``categories`` / ``brands``: affinities from events and purchases, weighted by
  type (view 1, search click -, favourite 3, cart add 2, purchase 5, rating 1-5 ×
  0.5; removals subtract) and decayed with a half-life of
  ``MEMBERSHIP_AFFINITY_HALF_LIFE_DAYS`` (30); normalised to sum to 1; declared
  favourites get a floor; interests the member hid are removed.
* ``price_band`` (budget / mid / premium / luxury): where the median unit price of
  what they bought (else viewed) sits among the catalogue's price quartiles;
  ``price_sensitivity``: share of orders that carried a discount (low / medium / high).
* ``recency_days``, ``orders``, ``spend``, ``avg_order_value`` (RFM raw figures);
  ``lifecycle``: prospect, new, active, at_risk, lapsed (``MEMBERSHIP_LIFECYCLE_DAYS``).
* ``activity``: events in the last 30 days → high / medium / low / dormant;
  ``hours``: preferred shopping time of day (shop time zone).
* ``sentiment``: mean review sentiment (positive / neutral / negative).
* ``tags``: targeting codes (``lifecycle:active``, ``price:premium``,
  ``likes:<category slug>``, ``brand:<brand slug>``, ``activity:high``,
  ``sentiment:positive``, ``staff:<tag slug>``).
"""

from __future__ import annotations

import zoneinfo
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from statistics import median

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Profile
from browsing.models import Event
from catalog.models import Brand, Category, Product
from config.api.errors import NotFound
from membership import memo
from membership.models import MemberProfile
from orders.models import Order, OrderItem, Review

EVENT_WEIGHTS = {
    Event.Type.VIEW: 1.0,
    Event.Type.FAVORITE: 3.0,
    Event.Type.UNFAVORITE: -3.0,
    Event.Type.CART_ADD: 2.0,
    Event.Type.CART_REMOVE: -1.0,
}
PURCHASE_WEIGHT = 5.0
DECLARED_FLOOR = 0.1
TOP_N = 8
COUNTED = (
    Order.Status.PAID,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
    Order.Status.COMPLETED,
    Order.Status.REFUNDED,
)
BANDS = ("budget", "mid", "premium", "luxury")


def half_life_days() -> float:
    return float(getattr(settings, "MEMBERSHIP_AFFINITY_HALF_LIFE_DAYS", 30))


def lifecycle_days() -> dict[str, int]:
    return {"new": 30, "active": 90, "at_risk": 180} | dict(
        getattr(settings, "MEMBERSHIP_LIFECYCLE_DAYS", {})
    )


@dataclass
class MemberData:
    user_id: int
    # (placed_at, total - refunded, had a discount)
    orders: list[tuple[datetime, float, bool]] = field(default_factory=list)
    # (placed_at, category_id, brand_id, unit_price, quantity)
    lines: list[tuple[datetime, int | None, int | None, float, int]] = field(default_factory=list)
    # (occurred_at, type, category_id, brand_id, value, product price)
    events: list[tuple[datetime, str, int | None, int | None, float | None, float | None]] = field(
        default_factory=list
    )
    favorites: int = 0
    # (rating, sentiment or None)
    reviews: list[tuple[int, float | None]] = field(default_factory=list)
    declared_categories: list[int] = field(default_factory=list)
    declared_brands: list[int] = field(default_factory=list)
    staff_tags: list[str] = field(default_factory=list)
    overrides: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """Shop-wide figures the computation needs (loaded once per batch)."""

    prices: tuple[float, ...]  # active products' prices, sorted
    category_slugs: dict[int, str]
    brand_slugs: dict[int, str]
    category_names: dict[int, str]
    brand_names: dict[int, str]


def context_load() -> Context:
    from catalog.models import Brand, Category

    prices = tuple(
        sorted(
            float(p) for p in Product.objects.filter(is_active=True).values_list("price", flat=True)
        )
    )
    cats = list(Category.objects.values_list("pk", "slug", "name"))
    brands = list(Brand.objects.values_list("pk", "slug", "name"))
    return Context(
        prices=prices,
        category_slugs={pk: slug for pk, slug, _n in cats},
        brand_slugs={pk: slug for pk, slug, _n in brands},
        category_names={pk: n for pk, _s, n in cats},
        brand_names={pk: n for pk, _s, n in brands},
    )


def _decay(at: datetime, now: datetime) -> float:
    age = max((now - at).total_seconds() / 86400.0, 0.0)
    return 0.5 ** (age / half_life_days())


def _normalise(scores: dict[int, float], declared: list[int], hidden: set[int]) -> list[dict]:
    positive = {k: v for k, v in scores.items() if v > 0 and k not in hidden}
    total = sum(positive.values())
    out = {k: v / total for k, v in positive.items()} if total else {}
    for k in declared:
        if k not in hidden:
            out[k] = max(out.get(k, 0.0), DECLARED_FLOOR)
    ranked = sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    return [{"id": k, "score": round(v, 4)} for k, v in ranked]


def _band(price: float | None, prices: tuple[float, ...]) -> str:
    """The quarter of the catalogue's prices ``price`` falls in (mid-rank of ties)."""
    if price is None or not prices:
        return ""
    below = bisect_left(prices, price)
    equal = bisect_right(prices, price) - below
    rank = (below + equal / 2) / len(prices)
    return BANDS[min(int(rank * 4), 3)]


def profile_compute(data: MemberData, *, now: datetime, context: Context) -> dict:
    """The profile of one member at ``now``: a pure function of its arguments."""
    hidden_c = set(data.overrides.get("hidden_categories", []))
    hidden_b = set(data.overrides.get("hidden_brands", []))
    cat: dict[int, float] = defaultdict(float)
    brand: dict[int, float] = defaultdict(float)
    recent_events = 0
    views_90 = carts_90 = 0
    hours: Counter = Counter()
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    viewed_prices = []
    for at, kind, c, b, value, price in data.events:
        if at > now:
            continue
        w = EVENT_WEIGHTS.get(kind)
        if kind == Event.Type.RATING and value is not None:
            w = (float(value) - 3.0) * 0.5
        d = _decay(at, now)
        if w:
            if c:
                cat[c] += w * d
            if b:
                brand[b] += w * d
        age = (now - at).days
        if age < 30:
            recent_events += 1
        if age < 90:
            views_90 += kind == Event.Type.VIEW
            carts_90 += kind == Event.Type.CART_ADD
        hours[at.astimezone(tz).hour] += 1
        if kind == Event.Type.VIEW and price is not None:
            viewed_prices.append(price)
    bought_prices = []
    for at, c, b, unit, qty in data.lines:
        if at > now:
            continue
        d = _decay(at, now) * PURCHASE_WEIGHT
        if c:
            cat[c] += d
        if b:
            brand[b] += d
        bought_prices.extend([unit] * min(qty, 10))
    orders = [(at, amount, disc) for at, amount, disc in data.orders if at <= now]
    for at, _a, _d in orders:
        hours[at.astimezone(tz).hour] += 2
    spend = round(sum(a for _at, a, _d in orders), 2)
    n = len(orders)
    last = max((at for at, _a, _d in orders), default=None)
    first = min((at for at, _a, _d in orders), default=None)
    recency = (now - last).days if last else None
    days = lifecycle_days()
    if not n:
        lifecycle = MemberProfile.Lifecycle.PROSPECT
    elif recency <= days["new"] and (now - first).days <= days["new"]:
        lifecycle = MemberProfile.Lifecycle.NEW
    elif recency <= days["active"]:
        lifecycle = MemberProfile.Lifecycle.ACTIVE
    elif recency <= days["at_risk"]:
        lifecycle = MemberProfile.Lifecycle.AT_RISK
    else:
        lifecycle = MemberProfile.Lifecycle.LAPSED
    reference = (
        median(bought_prices)
        if bought_prices
        else (median(viewed_prices) if viewed_prices else None)
    )
    band = _band(reference, context.prices)
    discount_share = round(sum(1 for _a, _m, d in orders if d) / n, 3) if n else 0.0
    sensitivity = (
        ""
        if not n
        else ("high" if discount_share >= 0.6 else "medium" if discount_share >= 0.25 else "low")
    )
    activity = (
        "high"
        if recent_events >= 30
        else "medium"
        if recent_events >= 8
        else "low"
        if recent_events
        else "dormant"
    )
    top_hours = [h for h, _c in sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    daypart = ""
    if top_hours:
        h = top_hours[0]
        daypart = (
            "morning"
            if 6 <= h < 12
            else "afternoon"
            if 12 <= h < 18
            else "evening"
            if 18 <= h < 24
            else "night"
        )
    sentiments = [s if s is not None else (r - 1) / 4 for r, s in data.reviews]
    mean_sentiment = round(sum(sentiments) / len(sentiments), 3) if sentiments else None
    tendency = (
        ""
        if mean_sentiment is None
        else "positive"
        if mean_sentiment >= 0.65
        else "negative"
        if mean_sentiment < 0.4
        else "neutral"
    )
    categories = _normalise(cat, data.declared_categories, hidden_c)
    brands = _normalise(brand, data.declared_brands, hidden_b)
    for row in categories:
        row["name"] = context.category_names.get(row["id"], "")
        row["slug"] = context.category_slugs.get(row["id"], "")
    for row in brands:
        row["name"] = context.brand_names.get(row["id"], "")
        row["slug"] = context.brand_slugs.get(row["id"], "")
    tags = [f"lifecycle:{lifecycle}", f"activity:{activity}"]
    if band:
        tags.append(f"price:{band}")
    if sensitivity:
        tags.append(f"discount:{sensitivity}")
    if tendency:
        tags.append(f"sentiment:{tendency}")
    tags += [f"likes:{r['slug']}" for r in categories[:3] if r["score"] >= 0.15 and r["slug"]]
    tags += [f"brand:{r['slug']}" for r in brands[:2] if r["score"] >= 0.2 and r["slug"]]
    tags += [f"staff:{slug}" for slug in sorted(data.staff_tags)]
    return {
        "categories": categories,
        "brands": brands,
        "price_band": band,
        "reference_price": round(reference, 2) if reference is not None else None,
        "price_sensitivity": sensitivity,
        "discount_share": discount_share,
        "orders": n,
        "spend": f"{Decimal(str(spend)).quantize(Decimal('0.01'))}",
        "avg_order_value": round(spend / n, 2) if n else 0.0,
        "recency_days": recency if recency is not None else 9999,
        "first_order_at": first.isoformat() if first else None,
        "last_order_at": last.isoformat() if last else None,
        "lifecycle": str(lifecycle),
        "activity": activity,
        "events": len([e for e in data.events if e[0] <= now]),
        "events_30d": recent_events,
        "views_90d": views_90,
        "cart_adds_90d": carts_90,
        "favorites": data.favorites,
        "categories_bought": len({c for _a, c, _b, _u, _q in data.lines if c}),
        "hours": top_hours,
        "daypart": daypart,
        "sentiment": mean_sentiment,
        "sentiment_tendency": tendency,
        "reviews": len(data.reviews),
        "declared_categories": sorted(data.declared_categories),
        "declared_brands": sorted(data.declared_brands),
        "staff_tags": sorted(data.staff_tags),
        "hidden_categories": sorted(hidden_c),
        "hidden_brands": sorted(hidden_b),
        "tags": tags,
    }


def members_data(user_ids: list[int]) -> dict[int, MemberData]:
    """Everything ``profile_compute`` reads, for several members, in a fixed number of queries."""
    out = {uid: MemberData(user_id=uid) for uid in user_ids}
    orders = (
        Order.objects.filter(user_id__in=user_ids, status__in=COUNTED)
        .order_by("placed_at", "pk")
        .values_list("user_id", "placed_at", "total", "refunded_total", "discount_total")
    )
    for uid, at, total, refunded, discount in orders:
        out[uid].orders.append((at, float(total - refunded), discount > 0))
    lines = (
        OrderItem.objects.filter(order__user_id__in=user_ids, order__status__in=COUNTED)
        .order_by("order__placed_at", "pk")
        .values_list(
            "order__user_id",
            "order__placed_at",
            "product__category_id",
            "product__brand_id",
            "unit_price",
            "quantity",
        )
    )
    for uid, at, c, b, unit, qty in lines:
        out[uid].lines.append((at, c, b, float(unit), int(qty)))
    events = (
        Event.objects.filter(user_id__in=user_ids)
        .exclude(event_type__in=[Event.Type.PURCHASE, Event.Type.SEARCH])
        .order_by("occurred_at", "pk")
        .values_list(
            "user_id",
            "occurred_at",
            "event_type",
            "product__category_id",
            "product__brand_id",
            "value",
            "product__price",
        )
    )
    for uid, at, kind, c, b, value, price in events:
        out[uid].events.append(
            (
                at,
                kind,
                c,
                b,
                float(value) if value is not None else None,
                float(price) if price is not None else None,
            )
        )
    from browsing.models import Favorite

    for uid, n in Counter(
        Favorite.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
    ).items():
        out[uid].favorites = n
    for uid, rating, sentiment in (
        Review.objects.filter(user_id__in=user_ids, is_hidden=False)
        .order_by("pk")
        .values_list("user_id", "rating", "sentiment")
    ):
        out[uid].reviews.append((rating, float(sentiment) if sentiment is not None else None))
    through_c = Profile.favourite_categories.through
    for uid, cid in through_c.objects.filter(profile__user_id__in=user_ids).values_list(
        "profile__user_id", "category_id"
    ):
        out[uid].declared_categories.append(cid)
    through_b = Profile.favourite_brands.through
    for uid, bid in through_b.objects.filter(profile__user_id__in=user_ids).values_list(
        "profile__user_id", "brand_id"
    ):
        out[uid].declared_brands.append(bid)
    through_t = Profile.tags.through
    for uid, slug in through_t.objects.filter(profile__user_id__in=user_ids).values_list(
        "profile__user_id", "tag__slug"
    ):
        out[uid].staff_tags.append(slug)
    for uid, overrides in MemberProfile.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "overrides"
    ):
        out[uid].overrides = overrides or {}
    return out


def _save(results: dict[int, dict], now: datetime) -> None:
    existing = {p.user_id: p for p in MemberProfile.objects.filter(user_id__in=list(results))}
    new, changed = [], []
    for uid, data in results.items():
        last = datetime.fromisoformat(data["last_order_at"]) if data["last_order_at"] else None
        fields = {
            "data": data,
            "lifecycle": data["lifecycle"],
            "orders_count": data["orders"],
            "total_spend": Decimal(data["spend"]),
            "last_order_at": last,
            "computed_at": now,
        }
        profile = existing.get(uid)
        if profile is None:
            new.append(MemberProfile(user_id=uid, **fields))
        else:
            for key, value in fields.items():
                setattr(profile, key, value)
            changed.append(profile)
    MemberProfile.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    MemberProfile.objects.bulk_update(
        changed,
        ["data", "lifecycle", "orders_count", "total_spend", "last_order_at", "computed_at"],
        batch_size=1000,
    )
    memo.forget()  # bulk writes send no signals


def profile_refresh(*, user_id: int, now: datetime | None = None) -> dict | None:
    """Recompute one member's profile (the incremental update). None if the member is gone."""
    from django.contrib.auth import get_user_model

    if not get_user_model().objects.filter(pk=user_id).exists():
        return None
    now = now or timezone.now()
    data = members_data([user_id])[user_id]
    result = profile_compute(data, now=now, context=context_load())
    with transaction.atomic():
        _save({user_id: result}, now)
    return result


def profiles_rebuild(*, now: datetime | None = None, batch_size: int = 500, user_ids=None) -> int:
    """Recompute every member's profile in batches (the nightly job); returns the count."""
    from django.contrib.auth import get_user_model

    now = now or timezone.now()
    context = context_load()
    ids = get_user_model().objects.filter(is_active=True, is_staff=False).order_by("pk")
    if user_ids is not None:
        ids = ids.filter(pk__in=user_ids)
    ids = list(ids.values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        data = members_data(chunk)
        results = {uid: profile_compute(data[uid], now=now, context=context) for uid in chunk}
        with transaction.atomic():
            _save(results, now)
    return len(ids)


class InterestNotFound(NotFound):
    code = "interest_not_found"
    message = _("There is no such category or brand.")


def interest_hide(*, user, kind: str, object_id: int, hidden: bool = True) -> dict:
    """The member hides (or shows again) a category or brand interest; both update paths
    respect it. ``kind`` is "category" or "brand". Recomputes the profile at once."""
    if kind not in ("category", "brand"):
        raise ValueError("kind must be category or brand")
    key = "hidden_categories" if kind == "category" else "hidden_brands"
    model = Category if kind == "category" else Brand
    if hidden and not model.objects.filter(pk=object_id).exists():
        # Unknown ids would pile up in the member's overrides without end.
        raise InterestNotFound(detail={"kind": kind, "id": object_id})
    with transaction.atomic():
        profile, _c = MemberProfile.objects.select_for_update().get_or_create(user=user)
        values = set(profile.overrides.get(key, []))
        if hidden:
            values.add(int(object_id))
        else:
            values.discard(int(object_id))
        profile.overrides = {**profile.overrides, key: sorted(values)}
        profile.save(update_fields=["overrides"])
    return profile_refresh(user_id=user.pk) or {}
