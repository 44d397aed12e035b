"""Reads of the behaviour log for the member's own pages and API.

Every function is limited to one member's rows and to what they may see
(rows they hid are left out). Lists come back in two shapes: a queryset of
aggregated rows to paginate, and ``*_rows`` that turn one page of it into
plain objects with their products fetched in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from browsing.models import Event, Favorite
from catalog.models import Product


@dataclass(frozen=True)
class ViewedProduct:
    """One product in the footprints: the latest view and the number of views."""

    product: Product
    viewed_at: datetime
    views: int

    @property
    def day(self) -> date:
        return timezone.localdate(self.viewed_at)


@dataclass(frozen=True)
class PastSearch:
    query: str
    searched_at: datetime
    result_count: int | None


def _products_by_id(ids: Iterable[int]) -> dict[int, Product]:
    return {
        p.pk: p for p in Product.objects.filter(pk__in=set(ids)).select_related("category", "brand")
    }


def history_views(*, user) -> QuerySet:
    """The member's footprints: one row a product (``product_id``, ``viewed_at``,
    ``views``), latest view first, active products only, hidden views left out.

    Paginate it, then hand the page to ``history_view_rows``.
    """
    return (
        Event.objects.filter(
            user=user,
            event_type=Event.Type.VIEW,
            is_hidden=False,
            product__is_active=True,
        )
        .values("product_id")
        .annotate(viewed_at=Max("occurred_at"), views=Sum("quantity"))
        .order_by("-viewed_at", "-product_id")
    )


def history_view_rows(rows: Iterable[dict]) -> list[ViewedProduct]:
    """One page of ``history_views`` with its products (one query)."""
    rows = list(rows)
    products = _products_by_id(r["product_id"] for r in rows)
    return [
        ViewedProduct(products[r["product_id"]], r["viewed_at"], r["views"] or 0)
        for r in rows
        if r["product_id"] in products
    ]


def history_searches(*, user) -> QuerySet:
    """The member's past searches: one row a query (``query``, ``searched_at``),
    latest first, hidden ones left out.

    Paginate it, then hand the page to ``history_search_rows``.
    """
    return (
        Event.objects.filter(user=user, event_type=Event.Type.SEARCH, is_hidden=False)
        .values("query")
        .annotate(searched_at=Max("occurred_at"))
        .order_by("-searched_at", "query")
    )


def history_search_rows(rows: Iterable[dict], *, user) -> list[PastSearch]:
    """One page of ``history_searches`` with the result count of each query's latest
    search (one query; a correlated subquery instead made PostgreSQL evaluate it for
    every search of the member before grouping)."""
    rows = list(rows)
    latest_counts: dict[str, Decimal | None] = {}
    for query, value in (
        Event.objects.filter(
            user=user,
            event_type=Event.Type.SEARCH,
            is_hidden=False,
            query__in=[r["query"] for r in rows],
        )
        .order_by("query", "-occurred_at", "-id")
        .values_list("query", "value")
    ):
        latest_counts.setdefault(query, value)
    return [
        PastSearch(
            r["query"],
            r["searched_at"],
            None if latest_counts.get(r["query"]) is None else int(latest_counts[r["query"]]),
        )
        for r in rows
    ]


def favorite_list(*, user) -> QuerySet[Favorite]:
    """The member's saved products, newest first, with product, category and brand."""
    return Favorite.objects.filter(user=user).select_related(
        "product", "product__category", "product__brand"
    )


def favorite_exists(*, user, product_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Favorite.objects.filter(user=user, product_id=product_id).exists()
