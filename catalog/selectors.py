"""Reads of the catalogue: the category tree, product lists and search.

The category tree is read with one query of all active categories and kept in
Django's cache (invalidated by ``catalog.receivers`` when a category is saved
or deleted), so navigation, breadcrumbs and "include sub-categories" filters
cost no query on a warm cache. The cache holds both the English and the
Chinese name of each category; templates pick one at render time
(``Category.display_name``), so one cached tree serves every language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _

from catalog.models import Brand, Category, Product

CATEGORY_TREE_CACHE_KEY = "catalog:category-tree:v2"  # v2: nodes carry name_zh_hans
CATEGORY_TREE_TIMEOUT = 60 * 60  # safety net; saves and deletes invalidate at once

SEARCH_CONFIG = "simple"
MAX_SEARCH_TERMS = 10


class Ordering:
    """Product list orderings (values used in URLs, shown in the sort menu)."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NAME = "name"

    CHOICES = [
        (RELEVANCE, _("Relevance")),
        (NEWEST, _("Newest")),
        (PRICE_ASC, _("Price: low to high")),
        (PRICE_DESC, _("Price: high to low")),
        (NAME, _("Name")),
    ]
    LISTING_CHOICES = CHOICES[1:]  # all but relevance, which only a search has

    ORDER_BY = {
        NEWEST: ("-created_at", "-id"),
        PRICE_ASC: ("price", "id"),
        PRICE_DESC: ("-price", "id"),
        NAME: ("name", "id"),
    }


# --- category tree ------------------------------------------------------------


@dataclass(frozen=True)
class CategoryNode:
    id: int
    parent_id: int | None
    name: str
    slug: str
    children: tuple[int, ...] = field(default=())
    name_zh_hans: str = ""


@dataclass(frozen=True)
class CategoryTree:
    nodes: dict[int, CategoryNode]
    roots: tuple[int, ...]
    by_slug: dict[str, int]

    def descendant_ids(self, category_id: int) -> list[int]:
        """The category and all its active descendants (breadth first)."""
        if category_id not in self.nodes:
            return []
        ids, queue = [], [category_id]
        while queue:
            current = queue.pop(0)
            ids.append(current)
            queue.extend(self.nodes[current].children)
        return ids

    def ancestors(self, category_id: int) -> list[CategoryNode]:
        """Root first, ending with the category itself."""
        chain: list[CategoryNode] = []
        seen: set[int] = set()
        current = self.nodes.get(category_id)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            chain.append(current)
            current = self.nodes.get(current.parent_id) if current.parent_id else None
        return list(reversed(chain))


def _build_category_tree() -> CategoryTree:
    rows = list(
        Category.objects.filter(is_active=True)
        .order_by("position", "name", "id")
        .values_list("id", "parent_id", "name", "slug", "name_zh_hans")
    )
    children: dict[int, list[int]] = {}
    for cid, parent_id, *_names in rows:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(cid)
    nodes: dict[int, CategoryNode] = {}
    roots: list[int] = []
    for cid, parent_id, name, slug, name_zh_hans in rows:
        nodes[cid] = CategoryNode(
            cid, parent_id, name, slug, tuple(children.get(cid, ())), name_zh_hans
        )
        if parent_id is None:
            roots.append(cid)
    # An active category under an inactive parent is hidden with its parent.
    reachable: set[int] = set()
    queue = list(roots)
    while queue:
        current = queue.pop()
        reachable.add(current)
        queue.extend(nodes[current].children)
    nodes = {cid: node for cid, node in nodes.items() if cid in reachable}
    return CategoryTree(
        nodes=nodes,
        roots=tuple(roots),
        by_slug={node.slug: cid for cid, node in nodes.items()},
    )


def category_tree() -> CategoryTree:
    """The active category tree: one query on a cold cache, none when warm."""
    tree = cache.get(CATEGORY_TREE_CACHE_KEY)
    if tree is None:
        tree = _build_category_tree()
        cache.set(CATEGORY_TREE_CACHE_KEY, tree, CATEGORY_TREE_TIMEOUT)
    return tree


def category_tree_invalidate() -> None:
    cache.delete(CATEGORY_TREE_CACHE_KEY)


def _node_to_category(node: CategoryNode) -> Category:
    # An unsaved-looking instance carrying the cached values: enough for
    # display_name, slug and get_absolute_url() without touching the database.
    return Category(
        id=node.id,
        parent_id=node.parent_id,
        name=node.name,
        name_zh_hans=node.name_zh_hans,
        slug=node.slug,
    )


def category_departments() -> list[Category]:
    """Root categories (departments), in menu order."""
    tree = category_tree()
    return [_node_to_category(tree.nodes[cid]) for cid in tree.roots]


def category_children(category_id: int) -> list[Category]:
    tree = category_tree()
    node = tree.nodes.get(category_id)
    if node is None:
        return []
    return [_node_to_category(tree.nodes[c]) for c in node.children if c in tree.nodes]


def category_descendant_ids(category: Category | int) -> list[int]:
    """Ids of the category and all its active descendants; [] when not active."""
    category_id = category if isinstance(category, int) else category.pk
    return category_tree().descendant_ids(category_id)


def category_breadcrumbs(category: Category | int) -> list[Category]:
    """The path from the department down to the category (root first)."""
    category_id = category if isinstance(category, int) else category.pk
    return [_node_to_category(node) for node in category_tree().ancestors(category_id)]


def category_get_active(*, slug: str | None = None, pk: int | None = None) -> Category | None:
    """An active category visible in the tree, by slug or id, else None."""
    tree = category_tree()
    category_id = tree.by_slug.get(slug) if slug is not None else pk
    if category_id is None or category_id not in tree.nodes:
        return None
    return Category.objects.filter(pk=category_id, is_active=True).first()


def category_list() -> QuerySet[Category]:
    """Active categories with their parent id, in tree order of the model."""
    visible = list(category_tree().nodes)
    return Category.objects.filter(pk__in=visible).order_by("parent_id", "position", "name", "id")


# --- products -----------------------------------------------------------------


def _active_products() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True, category__is_active=True).select_related(
        "category", "brand"
    )


def _apply_filters(
    qs: QuerySet[Product],
    *,
    category: Category | int | None,
    brand_ids: Iterable[int] | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    in_stock_only: bool,
) -> QuerySet[Product]:
    if category is not None:
        qs = qs.filter(category_id__in=category_descendant_ids(category))
    brand_ids = list(brand_ids or [])
    if brand_ids:
        qs = qs.filter(brand_id__in=brand_ids)
    if min_price is not None:
        qs = qs.filter(price__gte=min_price)
    if max_price is not None:
        qs = qs.filter(price__lte=max_price)
    if in_stock_only:
        qs = qs.filter(stock__gt=0)
    return qs


def product_list(
    *,
    category: Category | int | None = None,
    brand_ids: Iterable[int] | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock_only: bool = False,
    ordering: str = Ordering.NEWEST,
) -> QuerySet[Product]:
    """Active products (of active categories), filtered and ordered.

    ``category`` includes its sub-categories. ``ordering`` is one of
    ``Ordering`` except relevance, which only a search has.
    """
    qs = _apply_filters(
        _active_products(),
        category=category,
        brand_ids=brand_ids,
        min_price=min_price,
        max_price=max_price,
        in_stock_only=in_stock_only,
    )
    order_by = Ordering.ORDER_BY.get(ordering, Ordering.ORDER_BY[Ordering.NEWEST])
    return qs.order_by(*order_by)


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_query(query: str | None) -> str:
    """A search query without control characters (PostgreSQL refuses NUL)."""
    return _CONTROL_CHARS.sub(" ", query or "").strip()


def search_terms(query: str) -> list[str]:
    """Lower-cased words of a query (CJK runs count as words), at most 10."""
    return re.findall(r"\w+", clean_query(query).lower())[:MAX_SEARCH_TERMS]


def _split_terms(query: str) -> tuple[list[str], list[str]]:
    """(wanted, excluded) words: ``-word`` excludes, the operator ``or`` is dropped."""
    wanted: list[str] = []
    excluded: list[str] = []
    for token in (query or "").split():
        target = excluded if token.startswith("-") and len(token) > 1 else wanted
        target.extend(w for w in re.findall(r"\w+", token.lower()) if w != "or")
    return wanted[:MAX_SEARCH_TERMS], excluded[:MAX_SEARCH_TERMS]


def _term_condition(term: str, *, brands: list[tuple[int, str]], postgres: bool) -> Q:
    """Products where ``term`` occurs in the name, description, brand or category,
    English or Chinese.

    Brand and category names are matched up front (brands in one query,
    categories from the cached tree), so the condition only uses product
    columns and each part of it can use an index. The Chinese name and
    description are matched as substrings everywhere: CJK text has no spaces,
    so full-text search would see a whole phrase as one word. They are
    searched only for words with non-ASCII characters (a Latin word in a
    Chinese name, such as a brand or "USB-C", is in the English name too), so
    an English search costs what it did before there was Chinese content.
    """
    brand_ids = [pk for pk, name in brands if term in name.lower()]
    category_ids = [
        n.id
        for n in category_tree().nodes.values()
        if term in n.name.lower() or term in n.name_zh_hans.lower()
    ]
    condition = Q(name__icontains=term)
    condition |= Q(brand_id__in=brand_ids) | Q(category_id__in=category_ids)
    if not term.isascii():
        condition |= Q(name_zh_hans__icontains=term) | Q(description_zh_hans__icontains=term)
    if postgres:
        # Whole words of the description through the GIN index (migration 0002).
        condition |= Q(own_document=SearchQuery(term, search_type="plain", config=SEARCH_CONFIG))
    else:
        condition |= Q(description__icontains=term)
    return condition


def product_search(
    query: str,
    *,
    category: Category | int | None = None,
    brand_ids: Iterable[int] | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock_only: bool = False,
    ordering: str = Ordering.RELEVANCE,
) -> QuerySet[Product]:
    """Active products matching ``query``, filtered like ``product_list``.

    Everywhere: a product matches when every word occurs (case-insensitively,
    also as part of a word, so CJK text and partial words match) in its name,
    its brand or category name, or its description, and no ``-word`` does.
    Names and descriptions count in English and, for words with non-ASCII
    characters, in Simplified Chinese.

    On PostgreSQL the description is matched by whole words through full-text
    search (config 'simple'); a product also matches the query in websearch
    syntax ("quoted phrase", or, -word) against its name and description; and
    results are ranked by SearchRank over name (weight A), brand and category
    names (B) and description (C). Every part of the match can use an index
    (GIN full-text, pg_trgm on the name and the Chinese name and description,
    btree on brand and category).
    Elsewhere (SQLite) relevance counts the words found in the name.

    An empty query matches nothing.
    """
    query = clean_query(query)
    wanted, excluded = _split_terms(query)
    if not wanted:
        return Product.objects.none()
    postgres = connection.vendor == "postgresql"
    qs = _apply_filters(
        _active_products(),
        category=category,
        brand_ids=brand_ids,
        min_price=min_price,
        max_price=max_price,
        in_stock_only=in_stock_only,
    )
    any_term = Q()
    for term in wanted + excluded:
        any_term |= Q(name__icontains=term)
    brands = list(Brand.objects.filter(any_term).values_list("pk", "name"))

    every_word = Q()
    for term in wanted:
        every_word &= _term_condition(term, brands=brands, postgres=postgres)
    for term in excluded:
        every_word &= ~_term_condition(term, brands=brands, postgres=postgres)

    if postgres:
        web_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
        weighted = (
            SearchVector("name", weight="A", config=SEARCH_CONFIG)
            + SearchVector("brand__name", weight="B", config=SEARCH_CONFIG)
            + SearchVector("category__name", weight="B", config=SEARCH_CONFIG)
            + SearchVector("description", weight="C", config=SEARCH_CONFIG)
        )
        # The product's own text: the very expression of the GIN index.
        qs = qs.alias(own_document=SearchVector("name", "description", config=SEARCH_CONFIG))
        qs = qs.filter(Q(own_document=web_query) | every_word).annotate(
            relevance=SearchRank(weighted, web_query)
            + Case(
                When(Q(name__icontains=query) | Q(name_zh_hans__icontains=query), then=Value(1.0)),
                default=Value(0.0),
            )
            + sum(
                (
                    Case(When(name_zh_hans__icontains=t, then=Value(0.5)), default=Value(0.0))
                    for t in wanted
                    if not t.isascii()
                ),
                Value(0.0),
            )
        )
    else:
        name_hits = [
            Case(
                When(Q(name__icontains=t) | Q(name_zh_hans__icontains=t), then=Value(1)),
                default=Value(0),
            )
            for t in wanted
        ]
        qs = qs.filter(every_word).annotate(
            relevance=Case(
                When(
                    Q(name__icontains=query) | Q(name_zh_hans__icontains=query),
                    then=Value(len(wanted) + 1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            )
            + sum(name_hits, Value(0))
        )
    if ordering == Ordering.RELEVANCE or ordering not in Ordering.ORDER_BY:
        return qs.order_by("-relevance", "name", "id")
    return qs.order_by(*Ordering.ORDER_BY[ordering])


def brand_facets(products: QuerySet[Product]) -> list[Brand]:
    """Brands present among ``products`` (for the brand filter), by name.

    Two queries on purpose: as one ``IN (subquery)`` PostgreSQL plans a search
    as a semi-join that evaluates the full-text expression on every product
    (about 0.2 s on 5,000 products, bench/storefront.py), while the search on
    its own uses its indexes.
    """
    brand_ids = {
        pk for pk in products.order_by().values_list("brand_id", flat=True).distinct() if pk
    }
    if not brand_ids:
        return []
    return list(Brand.objects.filter(pk__in=brand_ids).order_by("name"))


def product_get_active(pk: int) -> Product | None:
    return _active_products().filter(pk=pk).first()


def product_same_category(product: Product, *, limit: int = 8) -> list[Product]:
    """Other active products of the product's category, newest first."""
    return list(
        _active_products()
        .filter(category_id=product.category_id)
        .exclude(pk=product.pk)
        .order_by("-created_at", "-id")[:limit]
    )


def product_new_arrivals(*, limit: int = 10) -> list[Product]:
    return list(product_list(ordering=Ordering.NEWEST)[:limit])


def product_deals(*, limit: int = 10) -> list[Product]:
    """In-stock products with the biggest reduction from their list price."""
    ratio = ExpressionWrapper(
        F("price") / F("list_price"), output_field=DecimalField(max_digits=12, decimal_places=6)
    )
    return list(
        _active_products()
        .filter(stock__gt=0, list_price__gt=F("price"))
        .annotate(price_ratio=ratio)
        .order_by("price_ratio", "price", "id")[:limit]
    )


def product_display_attributes(product: Product) -> list[tuple[str, str]]:
    """The attributes a shopper sees, as sorted (label, value) pairs.

    Keys starting with "_" are internal (kept for imports and models, never
    shown); the others are shown with underscores as spaces, first letter
    capitalised ("battery_life" -> "Battery life").
    """
    attributes = product.attributes if isinstance(product.attributes, dict) else {}
    shown = [
        (str(key).replace("_", " ").strip().capitalize(), str(value))
        for key, value in attributes.items()
        if not str(key).startswith("_") and value not in (None, "")
    ]
    return sorted(shown)


def products_personalised(user, products: list) -> list:
    """A page of search results re-ranked for a member by ``settings.SEARCH_RERANKER``
    (a dotted path to a callable (user, [product ids]) -> [product ids], provided by
    the recommender); visitors, an unset hook or a page of one keep the order."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "SEARCH_RERANKER", "")
    if not path or not getattr(user, "is_authenticated", False) or len(products) < 2:
        return products
    by_id = {product.pk: product for product in products}
    order = [pk for pk in import_string(path)(user, list(by_id)) if pk in by_id]
    return [by_id.pop(pk) for pk in dict.fromkeys(order)] + list(by_id.values())
