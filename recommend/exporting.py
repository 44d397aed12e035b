"""``export_recommendations``: top-k lists of members named by external id, as JSON lines.

For each id in the file: the member's stored list of the live version, without
the products they interacted with (any event on a product), filled from the
validated popularity ranking so that every line has exactly k items (fewer only
when the catalogue has fewer unseen products). Unknown members get popularity.
Products are named by their external id (their SKU when they have none).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

import numpy as np

from accounts.models import User
from browsing.models import Event
from catalog.models import Product
from recommend.ml.data import KIND_CODES
from recommend.models import MemberList, ModelVersion
from recommend.services import artefact_load

CHUNK = 900


def _chunks(seq: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def read_user_ids(lines: Iterable[str]) -> list[str]:
    ids = []
    for index, line in enumerate(lines):
        value = line.strip().split(",")[0].strip().strip('"')
        if not value or (index == 0 and value.lower() in {"user", "user_id", "customer"}):
            continue
        ids.append(value)
    return ids


def export_lines(external_ids: list[str], k: int) -> Iterator[str]:
    live = ModelVersion.objects.filter(status=ModelVersion.Status.LIVE).first()
    members: dict[str, int] = {}
    # an id with a NUL character names nobody (PostgreSQL cannot even compare it)
    lookup = [i for i in dict.fromkeys(external_ids) if "\x00" not in i]
    for chunk in _chunks(lookup):
        members.update(User.objects.filter(external_id__in=chunk).values_list("external_id", "pk"))
    pks = list(members.values())
    stored: dict[int, list[int]] = {}
    seen: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(pks):
        if live is not None:
            stored.update(
                MemberList.objects.filter(version=live, user_id__in=chunk).values_list(
                    "user_id", "items"
                )
            )
        for user_id, product_id in (
            Event.objects.filter(
                user_id__in=chunk, product__isnull=False, event_type__in=list(KIND_CODES)
            )
            .values_list("user_id", "product_id")
            .distinct()
        ):
            seen[user_id].add(product_id)
    popular = _popularity(live, k)
    active = set()
    names: dict[int, str] = {}
    wanted = set(popular)
    for items in stored.values():
        wanted.update(items)
    for chunk in _chunks(list(wanted)):
        for pk, external_id, sku, is_active in Product.objects.filter(pk__in=chunk).values_list(
            "pk", "external_id", "sku", "is_active"
        ):
            names[pk] = external_id or sku
            if is_active:
                active.add(pk)
    for external_id in external_ids:
        user_id = members.get(external_id)
        exclude = seen.get(user_id, set())
        items: list[int] = []
        chosen: set[int] = set()
        for pk in [*stored.get(user_id, []), *popular]:
            if len(items) >= k:
                break
            if pk in chosen or pk in exclude or pk not in active:
                continue
            chosen.add(pk)
            items.append(pk)
        yield json.dumps(
            {"user": external_id, "items": [names[pk] for pk in items]}, ensure_ascii=False
        )


def _popularity(live: ModelVersion | None, k: int) -> list[int]:
    """Enough popular products to fill any list: the version's ranking, then the
    rest of the model's items by the validated popularity, then the catalogue."""
    ranked: list[int] = list(live.popular) if live else []
    art = artefact_load(live.pk) if live else None
    if art is not None:
        order = np.argsort(-art["popular_vector"], kind="stable")
        ranked += [int(art["item_ids"][i]) for i in order]
    ranked = list(dict.fromkeys(ranked))
    if len(ranked) < k + 1000:
        ranked += list(
            Product.objects.filter(is_active=True)
            .exclude(pk__in=ranked[:CHUNK])
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[: k + 1000]
        )
    return list(dict.fromkeys(ranked))
