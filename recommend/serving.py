"""Serving: the lists shoppers see, read from the live version with a bounded number
of queries, filtered at serving time and always filled to the size asked.

Each function returns a ``Served`` (list id, version id, items with a reason in
the active language) and logs the list as one ``ServedList`` row (the
impression); links go through ``recommend:click`` with the list id, which logs
the click and redirects to the product.

Filters: purchased products (unless repeat-purchase, attribute
``_repurchase_days``), products the member already interacted with (home),
out of stock, inactive, products the member reviewed negatively and their
nearest neighbours, and whatever the ``RECOMMEND_EXCLUDE_PROVIDERS`` return
(tier-restricted products). Gaps are filled from the next source: similar
items of the member's recent products, popular products in their preferred
categories and in the categories they browse, popular products overall, and
finally the newest products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Value
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.models import Profile
from browsing.models import Event
from catalog.models import Product
from orders.models import CartItem
from orders.reviews import negative_reviews_for_user
from recommend.exceptions import BadParameter
from recommend.models import ItemList, MemberList, ModelVersion, ServedList

CONTEXTS = ("home", "cart")
K_MIN, K_MAX = 1, 100
RECENT_EVENTS = 50  # the member's latest events read for reasons, anchors and filters
ANCHORS = 10  # recent products whose similar items fill gaps and explain picks
NEGATIVE_NEIGHBOURS = 5  # nearest neighbours of a disliked product also hidden
MAX_CANDIDATES = 900  # ids in one IN (...) (SQLite allows 999 parameters)
INTERACTION_TYPES = [
    Event.Type.VIEW,
    Event.Type.FAVORITE,
    Event.Type.CART_ADD,
    Event.Type.PURCHASE,
    Event.Type.RATING,
]


@dataclass
class Item:
    product: Product
    reason: str  # code
    reason_text: str
    position: int = 0
    click_url: str = ""


@dataclass
class Served:
    context: str
    version_id: int | None
    items: list[Item] = field(default_factory=list)
    list_id: int | None = None

    @property
    def products(self) -> list[Product]:
        return [item.product for item in self.items]


# --- parameters ---------------------------------------------------------------------------


def clean_k(value, default: int = 10) -> int:
    if value in (None, ""):
        return default
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise BadParameter(
            _("k must be a whole number from %(min)s to %(max)s.") % {"min": K_MIN, "max": K_MAX},
            detail={"k": value},
        ) from None
    if not K_MIN <= k <= K_MAX:
        raise BadParameter(
            _("k must be a whole number from %(min)s to %(max)s.") % {"min": K_MIN, "max": K_MAX},
            detail={"k": k},
        )
    return k


def clean_context(value) -> str:
    context = value or "home"
    if context not in CONTEXTS:
        raise BadParameter(
            _("Unknown context; use one of: %(contexts)s.") % {"contexts": ", ".join(CONTEXTS)},
            detail={"context": value},
        )
    return context


# --- reading the live version -------------------------------------------------------------


LIVE_CACHE_KEY = "recommend:live-version"
LIVE_CACHE_SECONDS = 30


def live_version() -> dict | None:
    """The live version's id and popularity lists, cached for ``LIVE_CACHE_SECONDS``
    (publish and rollback clear the key; other processes follow within that time)."""
    cached = cache.get(LIVE_CACHE_KEY)
    if cached is not None:
        return cached or None
    row = (
        ModelVersion.objects.filter(status=ModelVersion.Status.LIVE)
        .values("pk", "popular", "popular_by_category")
        .first()
    )
    cache.set(LIVE_CACHE_KEY, row or {}, LIVE_CACHE_SECONDS)
    return row


@lru_cache(maxsize=32)
def _provider(path: str):
    return import_string(path)


def excluded_for(user) -> set[int]:
    """Products the ``RECOMMEND_EXCLUDE_PROVIDERS`` never want shown to this member
    (or visitor: ``user`` may be None or anonymous, the providers decide, e.g. every
    tier-exclusive product is hidden from visitors)."""
    out: set[int] = set()
    for path in settings.RECOMMEND_EXCLUDE_PROVIDERS:
        out |= set(_provider(path)(user))
    return out


def _verb(event_type: str, name: str) -> str:
    texts = {
        Event.Type.PURCHASE: _("Because you bought %(name)s"),
        Event.Type.FAVORITE: _("Because you saved %(name)s"),
        Event.Type.CART_ADD: _("Because you added %(name)s to your cart"),
        Event.Type.RATING: _("Because you rated %(name)s"),
    }
    return texts.get(event_type, _("Because you viewed %(name)s")) % {"name": name}


class _Builder:
    """Walks candidate ids in order, keeping the ones that pass the filters."""

    def __init__(self, k: int, banned: set[int], products: dict[int, Product], allow_bought):
        self.k = k
        self.banned = banned
        self.products = products
        self.allow_bought = allow_bought
        self.items: list[Item] = []
        self.chosen: set[int] = set()

    def full(self) -> bool:
        return len(self.items) >= self.k

    def offer(self, pk: int, reason, text=None) -> None:
        """Take ``pk`` if it passes the filters. ``reason`` is a code and ``text`` its
        text (or a callable giving it), or ``reason`` is a callable giving both;
        either is evaluated only for products taken."""
        if self.full() or pk in self.chosen:
            return
        product = self.products.get(pk)
        if product is None or not product.is_active or product.stock <= 0:
            return
        if pk in self.banned and not self.allow_bought(product):
            return
        self.chosen.add(pk)
        if callable(reason):
            reason, text = reason()
        self.items.append(Item(product, reason, text() if callable(text) else text))


def _is_repeat_purchase(product: Product) -> bool:
    return bool((product.attributes or {}).get("_repurchase_days"))


def _fetch(ids: list[int]) -> dict[int, Product]:
    ids = list(dict.fromkeys(ids))[:MAX_CANDIDATES]
    if not ids:
        return {}
    return {p.pk: p for p in Product.objects.filter(pk__in=ids).select_related("category", "brand")}


def _newest_fill(builder: _Builder, pool: list[Product] | None = None) -> list[Product] | None:
    """The last resort: newest in-stock products (one query, only when still short).

    Returns the products read, so that sibling lists can reuse them (``pool``).
    """
    if builder.full():
        return pool
    if pool is None:
        exclude = builder.banned | builder.chosen
        pool = list(
            Product.objects.filter(is_active=True, stock__gt=0)
            .exclude(pk__in=list(exclude)[:MAX_CANDIDATES])
            .select_related("category", "brand")
            .order_by("-created_at", "-id")[: 2 * builder.k + len(builder.items)]
        )
    for product in pool:
        builder.products.setdefault(product.pk, product)
        builder.offer(product.pk, "new", _("New in the shop"))
    return pool


def _log(served: Served, *, user, anchor: int | None = None, log: bool = True) -> Served:
    return _log_many([served], user=user, anchor=anchor, log=log)[0]


def _log_many(
    lists: list[Served], *, user, anchor: int | None = None, log: bool = True
) -> list[Served]:
    """Number the items and store each list as one ServedList row (one INSERT for all).

    One list is saved on its own: ``bulk_create`` wraps its INSERT in a transaction,
    which on PostgreSQL (autocommit) costs a BEGIN and a COMMIT round trip besides it.
    """
    member = user if user is not None and user.is_authenticated else None
    rows = []
    for served in lists:
        for position, item in enumerate(served.items):
            item.position = position
            item.click_url = item.product.get_absolute_url()
        rows.append(
            ServedList(
                user=member,
                context=served.context,
                version_id=served.version_id,
                anchor_product_id=anchor,
                items=[item.product.pk for item in served.items],
            )
        )
    if log and len(rows) == 1:
        rows[0].save(force_insert=True)  # one INSERT ... RETURNING id, nothing else
    elif log and rows:
        ServedList.objects.bulk_create(rows)
    if log and rows:
        for served, row in zip(lists, rows, strict=True):
            served.list_id = row.pk
            for item in served.items:
                item.click_url = reverse("recommend:click", args=[row.pk, item.product.pk])
    return lists


def _popular_fill(builder: _Builder, version: dict | None, categories: list[int]) -> None:
    if not version:
        return
    by_category = version["popular_by_category"] or {}
    for category_id in categories:
        for pk in by_category.get(str(category_id), []):
            product = builder.products.get(pk)
            if product is not None:
                builder.offer(
                    pk,
                    "popular_category",
                    lambda p=product: (
                        _("Popular in %(category)s") % {"category": p.category.display_name}
                    ),
                )
    for pk in version["popular"] or []:
        builder.offer(pk, "popular", _("Popular right now"))


def _popular_ids(version: dict | None, categories: list[int], k: int = 10) -> list[int]:
    """Enough popular products (of ``categories``, then overall) to fill a list of k."""
    if not version:
        return []
    by_category = version["popular_by_category"] or {}
    ids = [pk for c in categories[:ANCHORS] for pk in by_category.get(str(c), [])[:k]]
    return ids + list(version["popular"] or [])[: 2 * k + 20]


def _purchased_and_preferred(user_id: int) -> tuple[set[int], list[int]]:
    """The products the member ever bought and their favourite categories (in the order
    they were added), in one query (a UNION of the two reads)."""
    bought = (
        Event.objects.filter(user_id=user_id, event_type=Event.Type.PURCHASE, product__isnull=False)
        .order_by()
        .annotate(kind=Value("p"), pos=Value(0))
        .values_list("kind", "product_id", "pos")
    )
    favourite = (
        Profile.favourite_categories.through.objects.filter(profile__user_id=user_id)
        .order_by()
        .annotate(kind=Value("c"), pos=F("id"))
        .values_list("kind", "category_id", "pos")
    )
    purchased: set[int] = set()
    preferred: list[int] = []
    for kind, pk, _pos in bought.union(favourite).order_by("kind", "pos"):
        if kind == "p":
            purchased.add(pk)
        else:
            preferred.append(pk)
    return purchased, preferred


# --- the lists ----------------------------------------------------------------------------


def recommendations_for(
    *,
    user,
    context: str = "home",
    k: int = 10,
    log: bool = True,
    cart_product_ids: list[int] | None = None,
) -> Served:
    """ "For you" (home) or "You may also like" (cart) for a member or a visitor.

    ``cart_product_ids``: the member's cart products, newest line first, when the caller
    has already read them (the cart page); read here otherwise.
    """
    context = clean_context(context)
    k = clean_k(k)
    version = live_version()
    version_id = version["pk"] if version else None
    if user is None or not user.is_authenticated:
        # a visitor's session cart (the cart page passes its lines) is not suggested back
        banned = excluded_for(user) | set(cart_product_ids or ())
        builder = _Builder(k, banned, _fetch(_popular_ids(version, [])), lambda p: False)
        _popular_fill(builder, version, [])
        _newest_fill(builder)
        return _log(Served(context, version_id, builder.items), user=None, log=log)

    stored: list[int] = []
    if version_id:
        stored = (
            MemberList.objects.filter(version_id=version_id, user_id=user.pk)
            .values_list("items", flat=True)
            .first()
            or []
        )
    recent = list(
        Event.objects.filter(
            user_id=user.pk, product__isnull=False, event_type__in=INTERACTION_TYPES
        )
        .order_by("-occurred_at", "-id")
        .values_list("product_id", "event_type")[:RECENT_EVENTS]
    )
    purchased, preferred = _purchased_and_preferred(user.pk)
    negatives = negative_reviews_for_user(user)
    cart = []
    if context == "cart" and cart_product_ids is not None:
        cart = list(cart_product_ids)
    elif context == "cart":
        cart = list(
            CartItem.objects.filter(cart__user_id=user.pk)
            .order_by("-id")
            .values_list("product_id", flat=True)
        )
    # the member's latest product per event, strongest event kept for the reason
    latest: dict[int, str] = {}
    for product_id, event_type in recent:
        latest.setdefault(product_id, event_type)
    anchors = list(dict.fromkeys(cart + list(latest)))[:ANCHORS]
    similar: dict[int, list[int]] = {}
    together: dict[int, list[int]] = {}
    if version_id and (anchors or negatives):
        for product_id, kind, items in ItemList.objects.filter(
            version_id=version_id, product_id__in=anchors + negatives[:ANCHORS]
        ).values_list("product_id", "kind", "items"):
            (together if kind == ItemList.Kind.BOUGHT_TOGETHER else similar)[product_id] = items
    hard = set(negatives) | set(cart) | excluded_for(user)
    for product_id in negatives[:ANCHORS]:
        hard |= set(similar.get(product_id, [])[:NEGATIVE_NEIGHBOURS])
    if context == "home":  # what they already looked at is not news (bought: see below)
        hard |= {pk for pk, event_type in latest.items() if event_type != Event.Type.PURCHASE}
    # a pool a few times k: what the filters drop is refilled from the next source
    candidates = []
    for pk in cart:
        candidates += together.get(pk, [])[:k]
    candidates += stored[: 3 * k + 10]
    for pk in anchors:
        candidates += similar.get(pk, [])[:k]
    products = _fetch(candidates + anchors + _popular_ids(version, preferred, k))

    def allow(product: Product) -> bool:
        """Bought before, but a repeat-purchase product (and not hidden otherwise)."""
        return product.pk not in hard and _is_repeat_purchase(product)

    builder = _Builder(k, hard | purchased, products, allow)

    explained: dict[int, int] = {}  # product -> the latest anchor it is similar to
    for anchor in reversed(anchors):
        if anchor in products:
            explained.update(dict.fromkeys(similar.get(anchor, ()), anchor))

    def because(pk: int):
        anchor = explained.get(pk)
        if anchor is None:
            return "for_you", _("Picked for you")
        return "because", _verb(latest.get(anchor, Event.Type.VIEW), products[anchor].display_name)

    for pk in cart:
        name = products[pk].display_name if pk in products else ""
        for other in together.get(pk, []):
            builder.offer(
                other,
                "bought_together",
                lambda n=name: _("Often bought together with %(name)s") % {"name": n},
            )
    for pk in stored:
        builder.offer(pk, lambda pk=pk: because(pk))
    for anchor in anchors:
        for pk in similar.get(anchor, []):
            builder.offer(pk, lambda pk=pk: because(pk))
    browsed = [products[pk].category_id for pk in latest if pk in products]
    categories = list(dict.fromkeys(preferred + browsed))
    _popular_fill(builder, version, categories)
    _newest_fill(builder)
    return _log(Served(context, version_id, builder.items), user=user, log=log)


def item_lists(
    *,
    product_id: int,
    kinds: tuple[str, ...] = ("similar",),
    k: int = 10,
    user=None,
    log=True,
    distinct: bool = False,
) -> dict[str, Served]:
    """Similar items and/or bought-together items of a product, each filled to ``k``.

    Bought-together falls back to similar items, both to popular products of
    the product's category, then of the shop. With ``distinct`` (lists shown
    on one page) a later list leaves out what an earlier one shows, so the
    product page never shows the same strip twice. One query for the stored lists,
    one for the products, one INSERT for the served lists (plus one for the
    newest products when everything else is short).
    """
    k = clean_k(k)
    version = live_version()
    version_id = version["pk"] if version else None
    lists: dict[str, list[int]] = {}
    if version_id:
        lists = dict(
            ItemList.objects.filter(version_id=version_id, product_id=product_id).values_list(
                "kind", "items"
            )
        )
    similar = lists.get(ItemList.Kind.SIMILAR, [])
    together = lists.get(ItemList.Kind.BOUGHT_TOGETHER, [])
    by_category = (version or {}).get("popular_by_category") or {}
    # the anchor's category is known only once it is fetched: take a wide pool
    pool = together + similar + [pk for ids in by_category.values() for pk in ids[:10]]
    pool += list((version or {}).get("popular") or [])[:50]
    products = _fetch([product_id] + pool) if pool else {}  # no model: only the newest fill
    anchor = products.get(product_id)
    banned = {product_id} | excluded_for(user)
    if user is not None and user.is_authenticated:  # what the member disliked (one query)
        banned |= set(negative_reviews_for_user(user))
    name = anchor.display_name if anchor else ""
    out: dict[str, Served] = {}
    newest = None
    for kind in kinds:
        builder = _Builder(k, banned, products, lambda p: False)
        if kind == "bought":
            for pk in together:
                builder.offer(
                    pk,
                    "bought_together",
                    lambda: _("Often bought together with %(name)s") % {"name": name},
                )
        for pk in similar:
            builder.offer(pk, "similar", lambda: _("Similar to %(name)s") % {"name": name})
        _popular_fill(builder, version, [anchor.category_id] if anchor else [])
        newest = _newest_fill(builder, newest)
        context = (
            ServedList.Context.BOUGHT_TOGETHER if kind == "bought" else ServedList.Context.SIMILAR
        )
        out[kind] = Served(context, version_id, builder.items)
        if distinct:
            banned = banned | builder.chosen
    _log_many(list(out.values()), user=user, anchor=product_id, log=log)
    return out


def item_list(*, product_id: int, kind: str, k: int = 10, user=None, log: bool = True) -> Served:
    """One list of ``item_lists``."""
    return item_lists(product_id=product_id, kinds=(kind,), k=k, user=user, log=log)[kind]


def rerank_search(user, product_ids: list[int]) -> list[int]:
    """Search results re-ranked for a member (browsing's ``SEARCH_RERANKER``).

    Results in the member's live top-N list move up by up to ``RERANK_BOOST``
    places (more for a better rank in the list); the others keep their order.
    Two queries; the order is unchanged without a live version or a list.
    """
    if user is None or not user.is_authenticated or len(product_ids) < 2:
        return list(product_ids)
    stored = (
        MemberList.objects.filter(version__status=ModelVersion.Status.LIVE, user_id=user.pk)
        .values_list("items", flat=True)
        .first()
    )
    if not stored:
        return list(product_ids)
    rank = {pk: i for i, pk in enumerate(stored)}
    n = len(stored)

    def key(pair):
        position, pk = pair
        boost = RERANK_BOOST * (1 - rank[pk] / n) if pk in rank else 0.0
        return (position - boost, position)

    return [pk for _pos, pk in sorted(enumerate(product_ids), key=key)]


RERANK_BOOST = 8.0


def product_is_active(pk: int) -> bool:
    return Product.objects.filter(pk=pk, is_active=True).exists()
