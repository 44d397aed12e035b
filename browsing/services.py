"""Writes to the behaviour log: cheap, one statement per action, in the request.

``visitor_key`` identifies a browser across requests (kept in its session, so
it survives the session-key change at login); anonymous visitors' events and
carts are keyed by it and attached to the member at login.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.utils import timezone

from browsing.models import Event

VISITOR_SESSION_KEY = "visitor_key"


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
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    if user_id is None and not visitor:
        return None
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
