"""The version key of the cached live promotion set (``selectors.promotions_live_cached``).

Bumping it makes the next read rebuild the set. It is bumped on save/delete of a
promotion or its scope (``receivers``), by ``Promotion.objects...update()`` of anything
but the counters, and when a checkout finds a promotion gone.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction

LIVE_VERSION_KEY = "promotions:live:version"


def _bump() -> None:
    cache.set(LIVE_VERSION_KEY, time.time_ns(), None)


def promotions_live_invalidate() -> None:
    """Bump the live set's version now and again on commit, so that a read racing the
    open transaction cannot keep the old rows under the new version."""
    _bump()
    transaction.on_commit(_bump)
