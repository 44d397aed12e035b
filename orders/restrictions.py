"""Who may buy what: a settings hook other apps fill (membership's tier-exclusive products).

``settings.ORDERS_PURCHASE_RESTRICTION_PROVIDERS`` lists dotted paths of callables
``provider(user, product_ids) -> {product_id: reason}``; ``purchase_restrictions``
merges their answers (the first reason per product wins). Adding to the cart and
placing an order refuse restricted products with ``ProductUnavailable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def _providers(paths: tuple[str, ...]) -> tuple:
    return tuple(import_string(path) for path in paths)


def purchase_restrictions(user, product_ids: Iterable[int]) -> dict[int, str]:
    ids = list(product_ids)
    out: dict[int, str] = {}
    if not ids:
        return out
    paths = tuple(getattr(settings, "ORDERS_PURCHASE_RESTRICTION_PROVIDERS", ()))
    for provider in _providers(paths):
        for product_id, reason in (provider(user, ids) or {}).items():
            out.setdefault(product_id, str(reason))
    return out
