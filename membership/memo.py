"""A per-request memo for the member reads that several hooks repeat in one request.

Pricing (``tier_privileges``), promotions' audience hook (``member_audience``), the
points multiplier and recommend's exclusions (``restricted_product_ids``) all need the
member's tier; on the cart page they used to read it three times. ``RequestMemoMiddleware``
opens a scope for the duration of one request (a ``contextvars`` variable, so threads and
async tasks each have their own); inside it ``remembered(key, compute)`` computes each
value once. Outside a scope (tasks, commands, shell, tests calling selectors directly)
nothing is remembered, so nothing can go stale across requests. Inside a request, any
write to a membership row, tier, profile, score, staff tag or tier-exclusive product
clears the scope (``forget``, connected to the model signals in ``receivers``), so a tier
change made by the request itself (an eager task after checkout, staff editing a tier) is
seen by the reads that follow it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_scope: ContextVar[dict | None] = ContextVar("membership_request_memo", default=None)


@contextmanager
def request_scope():
    """Remember member reads until the block ends (nested scopes start empty)."""
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def remembered(key, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per scope for ``key`` (every time outside a scope)."""
    memo = _scope.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget(*args, **kwargs) -> None:
    """Drop everything remembered in the current scope (usable as a signal receiver)."""
    memo = _scope.get()
    if memo is not None:
        memo.clear()


class RequestMemoMiddleware:
    """Opens a ``request_scope`` around each request (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope():
            return self.get_response(request)
