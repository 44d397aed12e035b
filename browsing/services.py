"""Writes to the behaviour log: cheap, one or two statements per action, in the request.

``visitor_key`` identifies a browser across requests (kept in its session, so
it survives the session-key change at login); anonymous visitors' events and
carts are keyed by it and attached to the member at login
(``events_attach_to_member``, called by ``browsing.receivers``).

Repeated product views of one actor within ``VIEW_COLLAPSE_SECONDS`` are one
row: a guarded UPDATE bumps its time and count, and only when it touched no
row is a new one inserted. Searches of the same query collapse the same way.
History pages hide rows (``is_hidden``) instead of deleting them, because
profiles and recommenders keep reading the log.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from browsing.models import Event, Favorite
from browsing.signals import member_activity_send
from catalog.models import Product
from config.api.errors import NotFound

VISITOR_SESSION_KEY = "visitor_key"

# A search event's clicked product is recorded only while the search is this recent.
SEARCH_CLICK_WINDOW = timedelta(days=1)

# Event types a client may send in a batch; purchases and ratings come from orders/reviews.
CLIENT_EVENT_TYPES = (
    Event.Type.VIEW,
    Event.Type.SEARCH,
    Event.Type.FAVORITE,
    Event.Type.UNFAVORITE,
    Event.Type.CART_ADD,
    Event.Type.CART_REMOVE,
)

# Ids outside a 64-bit integer match no row (SQLite would raise on them).
MAX_ID = 2**63 - 1

_SPACES = re.compile(r"\s+")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visitor_key(request: HttpRequest, *, create: bool = True) -> str:
    """The visitor id of this browser ("" when there is none and ``create`` is False)."""
    session = getattr(request, "session", None)
    if session is None:
        return ""
    key = session.get(VISITOR_SESSION_KEY, "")
    if not key and create:
        key = secrets.token_hex(16)
        session[VISITOR_SESSION_KEY] = key
    return key


def _user_id(user) -> int | None:
    return getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None


def _is_id(value: int | None) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


def _actor_filter(user_id: int | None, visitor: str) -> Q:
    """The rows of one actor: the member's, or the anonymous visitor's."""
    if user_id is not None:
        return Q(user_id=user_id)
    return Q(user__isnull=True, session_key=visitor[:40])


def event_record(
    *,
    user=None,
    visitor: str = "",
    event_type: str,
    product_id: int | None = None,
    query: str = "",
    quantity: int = 1,
    value: Decimal | None = None,
    ref: str = "",
    source: str = Event.Source.WEB,
    occurred_at: datetime | None = None,
) -> Event | None:
    """Append one event for a member (``user``) or an anonymous ``visitor``.

    Returns None (and writes nothing) when there is neither.
    """
    user_id = _user_id(user)
    if user_id is None and not visitor:
        return None
    member_activity_send(user_id=user_id, event_type=event_type, product_id=product_id)
    return Event.objects.create(
        user_id=user_id,
        session_key=visitor[:40],
        event_type=event_type,
        product_id=product_id,
        query=query[:200],
        quantity=quantity,
        value=value,
        ref=ref[:64],
        source=source,
        occurred_at=occurred_at or timezone.now(),
    )


def search_query_clean(query: str | None) -> str:
    """The query as logged: no control characters, single spaces, at most 200 characters."""
    return _SPACES.sub(" ", _CONTROL_CHARS.sub(" ", query or "")).strip()[:200]


def _collapse_window_start(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.VIEW_COLLAPSE_SECONDS)


def product_view_record(
    *,
    user=None,
    visitor: str = "",
    product_id: int,
    source: str = Event.Source.WEB,
    now: datetime | None = None,
) -> bool:
    """Log a product view (footprint) of a member or a visitor; False when there is no actor.

    A view of the same product by the same actor within ``VIEW_COLLAPSE_SECONDS``
    of their last (visible) view of it bumps that row's ``occurred_at`` and
    ``quantity`` (the number of views) in one UPDATE; only when that touched no
    row is a new row inserted. One or two queries, and no read-then-write race.
    """
    user_id = _user_id(user)
    if user_id is None and not visitor:
        return False
    now = now or timezone.now()
    touched = Event.objects.filter(
        _actor_filter(user_id, visitor),
        event_type=Event.Type.VIEW,
        product_id=product_id,
        occurred_at__gte=_collapse_window_start(now),
        is_hidden=False,
    ).update(occurred_at=now, quantity=F("quantity") + 1)
    if not touched:
        Event.objects.create(
            user_id=user_id,
            session_key=visitor[:40],
            event_type=Event.Type.VIEW,
            product_id=product_id,
            source=source,
            occurred_at=now,
        )
    member_activity_send(user_id=user_id, event_type=Event.Type.VIEW, product_id=product_id)
    return True


def search_record(
    *,
    user=None,
    visitor: str = "",
    query: str,
    result_count: int,
    source: str = Event.Source.WEB,
    now: datetime | None = None,
) -> int | None:
    """Log a search (results page 1) and return its event id (None: no actor or empty query).

    The same query by the same actor within ``VIEW_COLLAPSE_SECONDS`` (a filter
    or sort change) updates that row's time and result count instead of adding
    one. ``value`` holds the result count the shopper saw.
    """
    user_id = _user_id(user)
    query = search_query_clean(query)
    if (user_id is None and not visitor) or not query:
        return None
    now = now or timezone.now()
    same_search = Event.objects.filter(
        _actor_filter(user_id, visitor),
        event_type=Event.Type.SEARCH,
        query=query,
        occurred_at__gte=_collapse_window_start(now),
        is_hidden=False,
    )
    if same_search.update(occurred_at=now, value=Decimal(result_count)):
        return same_search.order_by("-occurred_at", "-id").values_list("id", flat=True).first()
    event = Event.objects.create(
        user_id=user_id,
        session_key=visitor[:40],
        event_type=Event.Type.SEARCH,
        query=query,
        value=Decimal(result_count),
        source=source,
        occurred_at=now,
    )
    return event.pk


def search_click_record(
    *, user=None, visitor: str = "", search_event_id: Any, product_id: int
) -> bool:
    """Record the product clicked from a search's results on that search event.

    Only when the event is a recent search of the same actor that has no
    clicked product yet; anything else (garbage, another actor's id, a second
    click) is ignored. One guarded UPDATE; True when it recorded the click.
    """
    user_id = _user_id(user)
    if user_id is None and not visitor:
        return False
    raw = str(search_event_id or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        return False
    event_id = int(raw)
    if not _is_id(event_id):
        return False
    return bool(
        Event.objects.filter(
            _actor_filter(user_id, visitor),
            pk=event_id,
            event_type=Event.Type.SEARCH,
            product__isnull=True,
            occurred_at__gte=timezone.now() - SEARCH_CLICK_WINDOW,
        ).update(product_id=product_id)
    )


def events_attach_to_member(*, user, visitor: str) -> int:
    """Give the anonymous visitor's events to the member who just logged in (one UPDATE)."""
    if not visitor or _user_id(user) is None:
        return 0
    return Event.objects.filter(user__isnull=True, session_key=visitor[:40]).update(user=user)


# --- member history ------------------------------------------------------------------


def history_views_hide(*, user, product_id: int | None = None) -> int:
    """Hide the member's product views (all, or those of one product) from their footprints.

    Rows stay in the log for profiles and recommenders. Only the member's own
    rows are touched. Returns the number of rows hidden.
    """
    rows = Event.objects.filter(user=user, event_type=Event.Type.VIEW, is_hidden=False)
    if product_id is not None:
        if not _is_id(product_id):
            return 0
        rows = rows.filter(product_id=product_id)
    return rows.update(is_hidden=True)


def history_searches_hide(*, user) -> int:
    """Hide all of the member's searches from their search history (rows stay in the log)."""
    return Event.objects.filter(user=user, event_type=Event.Type.SEARCH, is_hidden=False).update(
        is_hidden=True
    )


# --- favourites ------------------------------------------------------------------------


def favorite_add(*, user, product_id: int, source: str = Event.Source.WEB) -> bool:
    """Save an active product to the member's favourites; True when it was not saved yet.

    Idempotent: saving it again changes nothing and logs nothing. A new
    favourite also logs a "favorite" event. Raises ``NotFound`` for an unknown
    or inactive product.
    """
    if not _is_id(product_id) or not Product.objects.filter(pk=product_id, is_active=True).exists():
        raise NotFound(code="product_not_found")
    try:
        with transaction.atomic():
            _favorite, created = Favorite.objects.get_or_create(user=user, product_id=product_id)
            if created:
                event_record(
                    user=user, event_type=Event.Type.FAVORITE, product_id=product_id, source=source
                )
    except IntegrityError:  # saved by a concurrent request in the meantime
        return False
    return created


def favorite_remove(*, user, product_id: int, source: str = Event.Source.WEB) -> bool:
    """Remove a product from the member's favourites; True when it was saved.

    Idempotent: removing it again changes nothing and logs nothing. A removal
    logs an "unfavorite" event. Only the member's own row is touched.
    """
    if not _is_id(product_id):
        return False
    with transaction.atomic():
        deleted, _detail = Favorite.objects.filter(user=user, product_id=product_id).delete()
        if deleted:
            event_record(
                user=user, event_type=Event.Type.UNFAVORITE, product_id=product_id, source=source
            )
    return bool(deleted)


# --- events batch from mobile clients ---------------------------------------------------


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)


def events_ingest(*, user, events: Sequence[dict], rejected: Iterable[dict] = ()) -> BatchResult:
    """Store a batch of already validated client events of a member.

    ``events`` are dicts with ``client_event_id``, ``event_type``, ``occurred_at``
    and optionally ``product_id``, ``query``, ``quantity``, ``value``. An event
    whose client id the member already sent (in an earlier batch or earlier in
    this one) is a duplicate: counted, not stored. The member's row is locked
    for the batch, so two concurrent batches of one member count their
    duplicates exactly; the rest is one bulk INSERT (``ignore_conflicts`` as
    the last line against duplicates).
    """
    from django.contrib.auth import get_user_model

    result = BatchResult(rejected=list(rejected))
    if not events:
        return result
    ids = [e["client_event_id"] for e in events]
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).values_list(
            "pk", flat=True
        ).first()
        seen = set(
            Event.objects.filter(user=user, client_event_id__in=set(ids)).values_list(
                "client_event_id", flat=True
            )
        )
        rows = []
        for event in events:
            if event["client_event_id"] in seen:
                result.duplicates += 1
                continue
            seen.add(event["client_event_id"])
            rows.append(
                Event(
                    user_id=user.pk,
                    event_type=event["event_type"],
                    product_id=event.get("product_id"),
                    query=event.get("query", "")[:200],
                    quantity=event.get("quantity") or 1,
                    value=event.get("value"),
                    source=Event.Source.API,
                    client_event_id=event["client_event_id"],
                    occurred_at=event["occurred_at"],
                )
            )
        Event.objects.bulk_create(rows, ignore_conflicts=True)
        result.accepted = len(rows)
        if rows:
            member_activity_send(user_id=user.pk, event_type="batch", product_id=None)
    return result
