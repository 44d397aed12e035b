"""A generative model of a membership shop: catalogue, members and 12 months of behaviour.

Pure Python + numpy (no Django), deterministic per seed: the same ``DemoConfig``
always gives the same ``DemoShop``. Every member draws from their own random
stream (``default_rng([seed, 3, member_index])``), so one member's history does
not depend on how many other members are generated; this is what lets the
writer top up only the members that are missing.

The model, in short:

* Catalogue: departments with leaf categories; fictional brands tied to
  departments with a price tier; products named brand + line + adjective +
  noun + variant; prices log-normal per category (long tail) scaled by the
  brand tier; popularity Zipf-distributed (long tail).
* Members: a latent taste over leaf categories (Dirichlet over departments,
  then within), a few favourite brands, a preferred price level and width
  (price sensitivity), an activity rate (log-normal: few heavy, many light) and
  for some a churn date after which activity decays.
* Sessions: a Poisson process per day with weekly, yearly (618, Double 11,
  Double 12, Spring Festival dip) and hour-of-day patterns. A session may start
  with a search, views products sampled by taste x popularity x price fit,
  favourites some, adds some to the cart, removes some and buys with a
  probability that rises with fit. Consumables are bought again on a cycle.
  Delivered purchases are sometimes rated; the rating follows the fit.
* Orders: every purchase event row is one line of a ``DemoOrder``; the order
  carries its status history (pending_payment -> paid -> shipped -> delivered
  -> completed, or cancelled / refunded), the sale it was placed in, and
  optional reviews, so later issues can write real orders, promotions,
  points and tiers consistent with the behaviour log.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from . import vocabulary as V

CENT = Decimal("0.01")
DAY = 86_400

SCALES: dict[str, dict[str, int]] = {
    "small": {"members": 2_000, "products": 1_500},
    "medium": {"members": 5_000, "products": 3_000},
    "large": {"members": 20_000, "products": 5_000},
}


class EventType:
    """The event types the generator emits (the values of browsing.Event.Type)."""

    VIEW = "view"
    SEARCH = "search"
    FAVORITE = "favorite"
    UNFAVORITE = "unfavorite"
    CART_ADD = "cart_add"
    CART_REMOVE = "cart_remove"
    PURCHASE = "purchase"
    RATING = "rating"


class OrderStatus:
    """Order statuses, as the glossary names them."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# ---------------------------------------------------------------------------
# Output records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoConfig:
    """What to generate. ``end`` is the (exclusive) last local day of the history."""

    end: date
    seed: int = 42
    members: int = 2_000
    products: int = 1_500
    months: int = 12
    activity: float = 1.0  # multiplies every member's session rate
    utc_offset_hours: int = 8  # the shop's local time (Asia/Shanghai) for daily patterns

    @classmethod
    def for_scale(cls, scale: str, *, end: date, seed: int = 42, **overrides) -> DemoConfig:
        if scale not in SCALES:
            raise ValueError(f"Unknown scale {scale!r}; choose one of {', '.join(SCALES)}.")
        values = {**SCALES[scale], **{k: v for k, v in overrides.items() if v is not None}}
        return cls(end=end, seed=seed, **values)

    @property
    def days(self) -> int:
        return max(1, round(self.months * 365 / 12))

    @property
    def end_ts(self) -> int:
        """Unix seconds of local midnight at the start of ``end``."""
        return _epoch(self.end) - self.utc_offset_hours * 3600

    @property
    def start_ts(self) -> int:
        return self.end_ts - self.days * DAY


@dataclass(frozen=True, slots=True)
class DemoCategory:
    key: str
    name: str
    name_zh: str
    parent_key: str | None
    position: int


@dataclass(frozen=True, slots=True)
class DemoBrand:
    key: str
    name: str
    department_keys: tuple[str, ...]
    tier: str
    description: str


@dataclass(frozen=True, slots=True)
class DemoProduct:
    sku: str
    external_id: str
    name: str
    description: str
    category_key: str
    brand_key: str
    price: Decimal
    list_price: Decimal | None
    stock: int
    attributes: dict
    name_zh: str = ""  # Simplified Chinese (catalog's name_zh_hans)
    description_zh: str = ""


@dataclass(frozen=True, slots=True)
class DemoAddress:
    recipient_name: str
    phone: str
    province: str
    city: str
    district: str
    line1: str
    postal_code: str
    is_default: bool
    country: str = "CN"


@dataclass(frozen=True, slots=True)
class MemberTraits:
    """The latent variables behind a member's behaviour (ground truth for evaluation)."""

    taste: np.ndarray  # probability over leaf categories (catalogue.leaf order)
    brand_affinity: np.ndarray  # multiplier per brand (catalogue.brands order)
    price_level: float  # preferred log-price relative to the category median
    price_width: float  # tolerance around it; small = price sensitive
    sessions_per_week: float
    churn_day: int | None  # day index in the window after which activity decays


@dataclass(frozen=True)
class DemoMember:
    external_id: str
    email: str
    first_name: str
    last_name: str
    display_name: str
    gender: str  # female / male / other / unspecified (accounts.Profile.Gender values)
    birthday: date
    phone: str
    language: str  # en / zh-hans
    joined_at: datetime
    email_verified_at: datetime | None
    marketing_opt_in: bool
    preferences_set_at: datetime | None
    favourite_category_keys: tuple[str, ...]
    favourite_brand_keys: tuple[str, ...]
    addresses: tuple[DemoAddress, ...]
    traits: MemberTraits = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class DemoEvent:
    member: str  # member external id
    event_type: str
    occurred_at: datetime  # timezone-aware, UTC
    session: str
    sku: str | None = None
    query: str = ""
    quantity: int = 1
    value: Decimal | None = None  # unit price / rating 1-5 / search result count
    ref: str = ""  # order id of purchase and rating rows


@dataclass(frozen=True, slots=True)
class DemoReview:
    rating: int
    title: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DemoOrderLine:
    sku: str
    quantity: int
    unit_price: Decimal
    review: DemoReview | None = None

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class DemoOrder:
    order_id: str
    member: str
    placed_at: datetime
    status: str
    status_changes: tuple[tuple[str, datetime], ...]
    lines: tuple[DemoOrderLine, ...]
    sale_key: str = ""  # the DemoSale the order was placed in, if any
    address_index: int = 0  # index into the member's addresses

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class DemoSale:
    """A shop-wide sale period (e.g. Double 11) with a percentage off every price."""

    key: str
    name: str
    starts_at: datetime
    ends_at: datetime
    percent_off: int


@dataclass
class DemoCatalogue:
    categories: list[DemoCategory]
    brands: list[DemoBrand]
    products: list[DemoProduct]
    # Model internals, aligned with the lists above (leaves = categories with a parent).
    leaf_keys: list[str] = field(repr=False)
    leaf_consumable: np.ndarray = field(repr=False)
    product_leaf: np.ndarray = field(repr=False)
    product_brand: np.ndarray = field(repr=False)
    product_noun: np.ndarray = field(repr=False)
    product_rel_price: np.ndarray = field(repr=False)
    product_cycle_days: np.ndarray = field(repr=False)
    product_discounted: np.ndarray = field(repr=False)
    popularity: np.ndarray = field(repr=False)
    brand_popularity: np.ndarray = field(repr=False)


@dataclass
class DemoShop:
    config: DemoConfig
    categories: list[DemoCategory]
    brands: list[DemoBrand]
    products: list[DemoProduct]
    members: list[DemoMember]
    sales: list[DemoSale]
    events: list[DemoEvent]  # ordered by time
    orders: list[DemoOrder]  # ordered by placement time

    def counts(self) -> dict[str, int]:
        by_type: dict[str, int] = {}
        for event in self.events:
            by_type[event.event_type] = by_type.get(event.event_type, 0) + 1
        return {
            "categories": len(self.categories),
            "brands": len(self.brands),
            "products": len(self.products),
            "members": len(self.members),
            "events": len(self.events),
            "orders": len(self.orders),
            **{f"events.{k}": v for k, v in sorted(by_type.items())},
        }


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def generate_shop(config: DemoConfig, *, only_members: set[str] | None = None) -> DemoShop:
    """The whole demo shop. ``only_members`` limits the history (not the member
    list) to those external ids; their histories are identical to a full run."""
    catalogue = build_catalogue(config)
    members = build_members(config, catalogue)
    events, orders = build_history(config, catalogue, members, only_members=only_members)
    return DemoShop(
        config=config,
        categories=catalogue.categories,
        brands=catalogue.brands,
        products=catalogue.products,
        members=members,
        sales=build_sales(config),
        events=events,
        orders=orders,
    )


# ---------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _shop_price(raw: float) -> Decimal:
    """A believable shelf price: 9.90 / 59.90 / 199.00 / 1299.00 style endings."""
    if raw < 100:
        value = max(math.floor(raw), 5) + 0.9
        return Decimal(f"{value:.2f}")
    if raw < 1000:
        return Decimal(f"{max(round(raw / 10) * 10 - 1, 99)}.00")
    return Decimal(f"{round(raw / 100) * 100 - 1}.00")


def _variant_zh(variant: str) -> str:
    """The variant in Chinese; sizes and units ("65W", "500ml") stay as they are."""
    return V.VARIANTS_ZH.get(variant, variant)


def build_catalogue(config: DemoConfig) -> DemoCatalogue:
    rng = np.random.default_rng([config.seed, 1])
    categories: list[DemoCategory] = []
    leaves: list[tuple[dict, dict]] = []
    for d_pos, dept in enumerate(V.DEPARTMENTS):
        categories.append(DemoCategory(dept["key"], dept["name"], dept["name_zh"], None, d_pos))
        for l_pos, leaf in enumerate(dept["leaves"]):
            categories.append(
                DemoCategory(leaf["key"], leaf["name"], leaf["name_zh"], dept["key"], l_pos)
            )
            leaves.append((dept, leaf))

    brands = [
        DemoBrand(
            key=slugify(name),
            name=name,
            department_keys=depts,
            tier=tier,
            description=f"{name}: {tier} range in "
            + " and ".join(d["name"] for d in V.DEPARTMENTS if d["key"] in depts)
            + ".",
        )
        for name, depts, tier in V.BRANDS
    ]
    brand_pop = 1.0 / (rng.permutation(len(brands)) + 1.0) ** 0.7

    # Products per leaf: uneven but at least a handful in each.
    n_leaves = len(leaves)
    floor = min(5, max(1, config.products // n_leaves))
    shares = rng.gamma(4.0, 1.0, n_leaves)
    extra = config.products - floor * n_leaves
    per_leaf = np.full(n_leaves, floor) + (
        rng.multinomial(max(extra, 0), shares / shares.sum()) if extra > 0 else 0
    )
    if extra < 0:  # tiny catalogues: fewer leaves get products
        per_leaf = np.zeros(n_leaves, dtype=int)
        per_leaf[: config.products] = 1

    products: list[DemoProduct] = []
    p_leaf, p_brand, p_noun, p_rel, p_cycle, p_disc = [], [], [], [], [], []
    seen_names: set[str] = set()
    publisher = re.compile(r"(Press|House|Books)$")
    for li, ((dept, leaf), count) in enumerate(zip(leaves, per_leaf, strict=True)):
        is_book = leaf.get("kind") == "book"
        candidates = [
            bi
            for bi, b in enumerate(brands)
            if dept["key"] in b.department_keys
            and (dept["key"] != "books-toys" or bool(publisher.search(b.name)) == is_book)
        ]
        cand_w = brand_pop[candidates] / brand_pop[candidates].sum()
        noun_factor = rng.lognormal(0.0, 0.3, len(leaf["nouns"]))
        for _ in range(int(count)):
            bi = candidates[int(rng.choice(len(candidates), p=cand_w))]
            brand = brands[bi]
            ni = _ri(rng, 0, len(leaf["nouns"]))
            noun_en, noun_zh, cycle = leaf["nouns"][ni]
            for attempt in range(8):
                variant = leaf["variants"][_ri(rng, 0, len(leaf["variants"]))]
                if is_book:
                    a = V.BOOK_ADJECTIVES[_ri(rng, 0, len(V.BOOK_ADJECTIVES))]
                    n1 = V.BOOK_NOUNS[_ri(rng, 0, len(V.BOOK_NOUNS))]
                    n2 = V.BOOK_NOUNS[_ri(rng, 0, len(V.BOOK_NOUNS))]
                    n2 = n2 if n2 != n1 else "Sea"
                    a_zh, n1_zh, n2_zh = (
                        V.BOOK_ADJECTIVES_ZH[a],
                        V.BOOK_NOUNS_ZH[n1],
                        V.BOOK_NOUNS_ZH[n2],
                    )
                    if rng.random() < 0.6:
                        title, title_zh = f"The {a} {n1}", f"{a_zh}{n1_zh}"
                    else:
                        title = f"The {n1} of the {a} {n2}"
                        title_zh = f"{a_zh.removesuffix('的')}{n2_zh}之{n1_zh}"
                    name = f"{title} ({variant})"
                    name_zh = f"《{title_zh}》（{_variant_zh(variant)}）"
                    adj_en = adj_zh = ""
                else:
                    line = dept["lines"][_ri(rng, 0, len(dept["lines"]))]
                    if dept["key"] in ("electronics", "sports"):  # model suffixes
                        line += ("", "", " 2", " 3", " Mini", " Max", " Plus", " Air")[
                            _ri(rng, 0, 8)
                        ]
                    adj_en, adj_zh = ("", "")
                    if rng.random() < 0.65:
                        adj_en, adj_zh = dept["adjectives"][_ri(rng, 0, len(dept["adjectives"]))]
                    words = [brand.name, line, adj_en, noun_en]
                    name = " ".join(w for w in words if w) + f", {variant}"
                    name_zh = f"{brand.name} {line} {adj_zh}{noun_zh} {_variant_zh(variant)}"
                if name not in seen_names:
                    break
                if attempt == 7:
                    name = f"{name} (No. {len(products) + 1})"
            seen_names.add(name)

            raw = (
                leaf["median"]
                * V.TIER_MULTIPLIER[brand.tier]
                * noun_factor[ni]
                * rng.lognormal(0.0, leaf["sigma"])
            )
            price = _shop_price(raw)
            list_price = None
            if rng.random() < 0.3:
                list_price = _shop_price(float(price) * rng.uniform(1.15, 1.6))
                if list_price <= price:
                    list_price = None
            stock = 0 if rng.random() < 0.07 else int(min(rng.lognormal(4.0, 1.0), 2000)) + 1
            index = len(products) + 1
            # Keys starting with "_" are internal: kept for later use, not shown to shoppers.
            attributes: dict = {"variant": variant, "_price_tier": brand.tier}
            if cycle:
                attributes["_repurchase_days"] = cycle
            if is_book:
                author = (
                    f"{V.AUTHOR_FIRST[_ri(rng, 0, len(V.AUTHOR_FIRST))]} "
                    f"{V.AUTHOR_LAST[_ri(rng, 0, len(V.AUTHOR_LAST))]}"
                )
                attributes["author"] = author
                point = dept["points"][index % len(dept["points"])]
                description = f"{name} by {author}, published by {brand.name}. " + point
                description_zh = f"{name_zh}，{author} 著，{brand.name} 出版。" + V.POINTS_ZH.get(
                    point, ""
                )
            else:
                lead = f"{adj_en} {noun_en.lower()}" if adj_en else noun_en
                point = dept["points"][index % len(dept["points"])]
                description = f"{lead} from {brand.name}'s {line} line, in {variant}. " + point
                description_zh = (
                    f"{brand.name} {line} 系列{adj_zh}{noun_zh}，{_variant_zh(variant)}。"
                    + V.POINTS_ZH.get(point, "")
                )
            products.append(
                DemoProduct(
                    sku=f"MM{index:06d}",
                    external_id=f"P{index:06d}",
                    name=name,
                    description=description,
                    category_key=leaf["key"],
                    brand_key=brand.key,
                    price=price,
                    list_price=list_price,
                    stock=stock,
                    attributes=attributes,
                    name_zh=name_zh,
                    description_zh=description_zh,
                )
            )
            p_leaf.append(li)
            p_brand.append(bi)
            p_noun.append(ni)
            p_rel.append(math.log(float(price) / leaf["median"]))
            p_cycle.append(cycle)
            p_disc.append(list_price is not None)

    n = len(products)
    product_brand = np.array(p_brand, dtype=np.int64)
    popularity = (1.0 / (rng.permutation(n) + 1.0) ** 1.05) * np.sqrt(brand_pop[product_brand])
    return DemoCatalogue(
        categories=categories,
        brands=brands,
        products=products,
        leaf_keys=[leaf["key"] for _, leaf in leaves],
        leaf_consumable=np.array(
            [any(c for _, _, c in leaf["nouns"]) for _, leaf in leaves], dtype=bool
        ),
        product_leaf=np.array(p_leaf, dtype=np.int64),
        product_brand=product_brand,
        product_noun=np.array(p_noun, dtype=np.int64),
        product_rel_price=np.array(p_rel, dtype=float),
        product_cycle_days=np.array(p_cycle, dtype=np.int64),
        product_discounted=np.array(p_disc, dtype=bool),
        popularity=popularity / popularity.sum(),
        brand_popularity=brand_pop,
    )


# ---------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------


def _ri(rng: np.random.Generator, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi); much cheaper than Generator.integers per call."""
    return lo + int(rng.random() * (hi - lo))


def _pick(rng: np.random.Generator, seq):
    return seq[_ri(rng, 0, len(seq))]


def _ts_to_dt(ts: int | float) -> datetime:
    return datetime.fromtimestamp(int(ts), tz=UTC)


def _hour_weights() -> np.ndarray:
    w = np.array(
        [0.35, 0.18, 0.08, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.0, 1.1, 1.2,
         1.5, 1.3, 1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 2.0, 2.2, 1.8, 0.9]
    )  # fmt: skip
    return np.cumsum(w / w.sum())


HOUR_CDF = _hour_weights()


def _local_seconds(rng: np.random.Generator) -> int:
    hour = int(np.searchsorted(HOUR_CDF, rng.random(), side="right"))
    return min(hour, 23) * 3600 + _ri(rng, 0, 3600)


def build_members(config: DemoConfig, catalogue: DemoCatalogue) -> list[DemoMember]:
    leaf_keys = catalogue.leaf_keys
    dept_of_leaf = []
    dept_keys = [d["key"] for d in V.DEPARTMENTS]
    for dept in V.DEPARTMENTS:
        dept_of_leaf += [dept_keys.index(dept["key"])] * len(dept["leaves"])
    dept_of_leaf_arr = np.array(dept_of_leaf)
    brand_dept = np.zeros((len(catalogue.brands), len(dept_keys)))
    for bi, brand in enumerate(catalogue.brands):
        for dk in brand.department_keys:
            brand_dept[bi, dept_keys.index(dk)] = 1.0
    gendered = {
        "female": {"mens-clothing": 0.25},
        "male": {"womens-clothing": 0.15, "makeup": 0.25, "skincare": 0.6},
    }
    width = max(5, len(str(config.members)))
    members = []
    for i in range(config.members):
        rng = np.random.default_rng([config.seed, 2, i])
        external_id = f"C{i + 1:0{width}d}"
        language = "zh-hans" if rng.random() < 0.65 else "en"
        g = rng.random()
        gender = (
            "female"
            if g < 0.52
            else "male"
            if g < 0.95
            else "other"
            if g < 0.96
            else ("unspecified")
        )
        name_gender = gender if gender in ("female", "male") else _pick(rng, ("female", "male"))
        if language == "zh-hans" or rng.random() < 0.3:
            last, last_zh = _pick(rng, V.CN_SURNAMES)
            first, first_zh = _pick(rng, V.CN_GIVEN_F if name_gender == "female" else V.CN_GIVEN_M)
            display = f"{last_zh}{first_zh}" if language == "zh-hans" else f"{first} {last}"
        else:
            first = _pick(rng, V.EN_FIRST_F if name_gender == "female" else V.EN_FIRST_M)
            last = _pick(rng, V.EN_LAST)
            display = f"{first} {last}"
        email = f"{slugify(first)}.{slugify(last)}{i + 1}@example.com".replace("-", "")

        age_days = int((18 + min(rng.gamma(3.0, 5.0), 52)) * 365.25)
        birthday = config.end - timedelta(days=age_days + _ri(rng, 0, 365))
        phone = f"+86 1{_ri(rng, 3, 10)}{_ri(rng, 0, 10)} " + (
            f"{_ri(rng, 0, 10_000):04d} {_ri(rng, 0, 10_000):04d}"
        )

        if rng.random() < 0.4:  # joined before the window
            join_day = -_ri(rng, 1, 730)
        else:
            join_day = int(config.days * rng.random())
        local_midnight = config.start_ts + join_day * DAY
        joined_ts = local_midnight + _local_seconds(rng)
        joined_at = _ts_to_dt(joined_ts)
        verified = _ts_to_dt(joined_ts + _ri(rng, 60, 3600)) if rng.random() < 0.85 else None

        # Latent taste: a few departments, then a few leaves within them.
        dept_pref = rng.dirichlet(np.full(len(dept_keys), 0.3))
        taste = np.zeros(len(leaf_keys))
        for d in range(len(dept_keys)):
            idx = np.flatnonzero(dept_of_leaf_arr == d)
            taste[idx] = dept_pref[d] * rng.dirichlet(np.full(len(idx), 0.45))
        for key, factor in gendered.get(gender, {}).items():
            taste[leaf_keys.index(key)] *= factor
        taste = taste + 1e-4
        taste /= taste.sum()

        brand_w = (brand_dept @ dept_pref) * catalogue.brand_popularity + 1e-9
        n_fav = _ri(rng, 2, 5)
        fav_brands = rng.choice(len(brand_w), size=n_fav, replace=False, p=brand_w / brand_w.sum())
        affinity = np.ones(len(brand_w))
        affinity[fav_brands] = rng.uniform(3.0, 8.0, n_fav)

        traits = MemberTraits(
            taste=taste,
            brand_affinity=affinity,
            price_level=float(rng.normal(0.0, 0.45)),
            price_width=float(rng.uniform(0.3, 0.8)),
            sessions_per_week=float(np.clip(rng.lognormal(math.log(0.26), 0.95), 0.02, 6.0)),
            churn_day=(
                _ri(rng, max(join_day, 0), config.days + 90) if rng.random() < 0.35 else None
            ),
        )

        declared_cats: tuple[str, ...] = ()
        declared_brands: tuple[str, ...] = ()
        prefs_at = None
        roll = rng.random()
        if roll < 0.6:
            top = np.argsort(-taste)[: _ri(rng, 1, 4)]
            declared_cats = tuple(leaf_keys[int(t)] for t in top)
            top_b = np.argsort(-affinity)[: _ri(rng, 0, 3)]
            declared_brands = tuple(catalogue.brands[int(b)].key for b in top_b)
            prefs_at = _ts_to_dt(joined_ts + _ri(rng, 120, 1800))
        elif roll < 0.8:
            prefs_at = _ts_to_dt(joined_ts + _ri(rng, 120, 1800))  # skipped

        addresses = []
        for a in range(1 + int(rng.random() < 0.4) + int(rng.random() < 0.1)):
            prov, prov_zh, city, city_zh, districts, postal = _pick(rng, V.CITIES)
            district, district_zh = _pick(rng, districts)
            street, street_zh = _pick(rng, V.STREETS)
            no = _ri(rng, 1, 1200)
            if language == "zh-hans":
                line1 = f"{street_zh}路{no}号{_ri(rng, 1, 30)}栋{_ri(rng, 101, 2800)}室"
                prov, city, district = prov_zh, city_zh, district_zh
            else:
                line1 = f"No. {no} {street} Road, Building {_ri(rng, 1, 30)}"
            recipient = (
                display
                if a == 0 or rng.random() < 0.6
                else f"{_pick(rng, V.CN_SURNAMES)[0]} {first}"
            )
            addresses.append(
                DemoAddress(
                    recipient_name=recipient,
                    phone=phone,
                    province=prov,
                    city=city,
                    district=district,
                    line1=line1,
                    postal_code=f"{postal}{_ri(rng, 0, 1000):03d}",
                    is_default=a == 0,
                )
            )

        members.append(
            DemoMember(
                external_id=external_id,
                email=email,
                first_name=first,
                last_name=last,
                display_name=display,
                gender=gender,
                birthday=birthday,
                phone=phone,
                language=language,
                joined_at=joined_at,
                email_verified_at=verified,
                marketing_opt_in=bool(rng.random() < 0.4),
                preferences_set_at=prefs_at,
                favourite_category_keys=declared_cats,
                favourite_brand_keys=declared_brands,
                addresses=tuple(addresses),
                traits=traits,
            )
        )
    return members


# ---------------------------------------------------------------------------
# Calendar: seasonality and sales
# ---------------------------------------------------------------------------

MONTH_FACTOR = {1: 0.95, 2: 0.8, 3: 0.95, 4: 0.95, 5: 1.0, 6: 1.15,
                7: 0.95, 8: 0.95, 9: 1.0, 10: 1.0, 11: 1.45, 12: 1.3}  # fmt: skip
WEEKDAY_FACTOR = (0.9, 0.9, 0.92, 0.95, 1.05, 1.25, 1.2)  # Monday first
PEAK_DAYS = {(6, 18): 2.2, (11, 11): 3.5, (11, 10): 1.8, (12, 12): 2.0}
SALES = (  # (key, name, (month, first day), (month, last day), percent off)
    ("618", "618 Mid-Year Sale", (6, 1), (6, 18), 10),
    ("double11", "Double 11", (11, 1), (11, 11), 15),
    ("double12", "Double 12", (12, 10), (12, 12), 10),
)


def _local_days(config: DemoConfig) -> list[date]:
    first = config.end - timedelta(days=config.days)
    return [first + timedelta(days=d) for d in range(config.days)]


def day_intensity(config: DemoConfig) -> np.ndarray:
    """Relative session intensity per day of the window (weekly x yearly pattern)."""
    return np.array(
        [
            MONTH_FACTOR[d.month] * WEEKDAY_FACTOR[d.weekday()] * PEAK_DAYS.get((d.month, d.day), 1)
            for d in _local_days(config)
        ]
    )


def build_sales(config: DemoConfig) -> list[DemoSale]:
    days = _local_days(config)
    sales = []
    offset = timedelta(hours=config.utc_offset_hours)
    for year in sorted({d.year for d in days}):
        for key, name, (m1, d1), (m2, d2), pct in SALES:
            start, last = date(year, m1, d1), date(year, m2, d2)
            if last < days[0] or start > days[-1]:
                continue
            sales.append(
                DemoSale(
                    key=f"{key}-{year}",
                    name=f"{name} {year}",
                    starts_at=datetime(start.year, start.month, start.day, tzinfo=UTC) - offset,
                    ends_at=datetime(last.year, last.month, last.day, tzinfo=UTC)
                    + timedelta(days=1)
                    - offset,
                    percent_off=pct,
                )
            )
    return sales


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------

_RATINGS = {r: Decimal(r) for r in range(1, 6)}


class _Catalog:
    """Per-run lookups the simulation needs, computed once."""

    def __init__(self, config: DemoConfig, cat: DemoCatalogue):
        self.cat = cat
        n_leaves = len(cat.leaf_keys)
        self.leaf_items = [np.flatnonzero(cat.product_leaf == li) for li in range(n_leaves)]
        self.leaf_has_items = np.array([len(x) > 0 for x in self.leaf_items])
        leaf_pop = np.array([cat.popularity[x].sum() for x in self.leaf_items])
        self.leaf_pop_cdf = np.cumsum(leaf_pop / leaf_pop.sum())
        self.noun_items: dict[tuple[int, int], np.ndarray] = {}
        for li, items in enumerate(self.leaf_items):
            for ni in np.unique(cat.product_noun[items]):
                self.noun_items[(li, int(ni))] = items[cat.product_noun[items] == ni]
        self.leaf_spec = [leaf for d in V.DEPARTMENTS for leaf in d["leaves"]]
        self.leaf_dept = [d for d in V.DEPARTMENTS for _ in d["leaves"]]
        self.skus = [p.sku for p in cat.products]
        self.prices = [p.price for p in cat.products]
        self.cycle_days = cat.product_cycle_days.tolist()
        self.discounted = cat.product_discounted.tolist()
        self.pop_pow = cat.popularity**0.75
        self.intensity = day_intensity(config)
        self.sales = build_sales(config)
        self.sale_windows = [
            (int(s.starts_at.timestamp()), int(s.ends_at.timestamp()), s) for s in self.sales
        ]

    def sale_at(self, ts: int) -> DemoSale | None:
        for start, end, sale in self.sale_windows:
            if start <= ts < end:
                return sale
        return None


def build_history(
    config: DemoConfig,
    catalogue: DemoCatalogue,
    members: list[DemoMember],
    *,
    only_members: set[str] | None = None,
) -> tuple[list[DemoEvent], list[DemoOrder]]:
    """Simulate every member's sessions; return events (by time) and orders."""
    ctx = _Catalog(config, catalogue)
    rows: list[tuple] = []
    orders: list[DemoOrder] = []
    for mi, member in enumerate(members):
        if only_members is not None and member.external_id not in only_members:
            continue
        _simulate_member(config, ctx, mi, member, rows, orders)
    rows.sort()
    dt_cache: dict[int, datetime] = {}
    events = []
    for ts, _mi, _seq, member_id, etype, pidx, query, qty, value, ref, session in rows:
        dt = dt_cache.get(ts)
        if dt is None:
            dt = dt_cache[ts] = _ts_to_dt(ts)
        events.append(
            DemoEvent(
                member=member_id,
                event_type=etype,
                occurred_at=dt,
                session=session,
                sku=ctx.skus[pidx] if pidx >= 0 else None,
                query=query,
                quantity=qty,
                value=value,
                ref=ref,
            )
        )
    orders.sort(key=lambda o: (o.placed_at, o.order_id))
    return events, orders


def _simulate_member(
    config: DemoConfig,
    ctx: _Catalog,
    mi: int,
    member: DemoMember,
    rows: list[tuple],
    orders: list[DemoOrder],
) -> None:
    cat = ctx.cat
    tr = member.traits
    rng = np.random.default_rng([config.seed, 3, mi])
    ext = member.external_id
    end_ts = config.end_ts

    # Per-product appeal for this member: popularity x brand x price fit.
    price_fit = np.exp(-0.5 * ((cat.product_rel_price - tr.price_level) / tr.price_width) ** 2)
    brand_aff = tr.brand_affinity[cat.product_brand]
    score = ctx.pop_pow * brand_aff * (0.1 + price_fit)
    fit = (0.65 * price_fit + 0.35 * (brand_aff > 1.0)).tolist()
    taste = tr.taste * ctx.leaf_has_items
    taste_cdf = np.cumsum(taste / taste.sum())
    sensitive = tr.price_level < -0.2

    # Sessions: Poisson per day with seasonality, a first-weeks boost and churn decay.
    joined_ts = int(member.joined_at.timestamp())
    first_day = max(0, (joined_ts - config.start_ts) // DAY)
    days = np.arange(first_day, config.days)
    if len(days) == 0:
        return
    lam = tr.sessions_per_week / 7.0 * config.activity * ctx.intensity[days]
    since_join = days - (joined_ts - config.start_ts) / DAY
    lam = lam * (1.0 + 1.5 * np.exp(-np.clip(since_join, 0, None) / 10.0))
    if tr.churn_day is not None:
        lam = lam * np.exp(-np.clip(days - tr.churn_day, 0, None) / 20.0)
    counts = rng.poisson(lam)
    starts = []
    for d, c in zip(days[counts > 0], counts[counts > 0], strict=True):
        midnight = config.start_ts + int(d) * DAY
        for _ in range(int(c)):
            starts.append(midnight + _local_seconds(rng))
    if config.start_ts <= joined_ts < end_ts:
        starts.append(joined_ts + _ri(rng, 30, 600))  # the sign-up visit
    starts = sorted(s for s in starts if joined_ts < s < end_ts)

    seq = 0
    favourites: dict[int, None] = {}
    due: dict[int, list] = {}  # product -> [due_ts, skips]
    n_orders = 0
    for s_no, start in enumerate(starts, start=1):
        session = f"{ext}-s{s_no:04d}"
        t = start
        events: list[tuple] = []

        def emit(etype, pidx=-1, query="", qty=1, value=None, ref="", *, _s=session, _e=events):
            _e.append((etype, pidx, query, qty, value, ref, _s))

        times: list[int] = []

        def tick(lo: int = 8, hi: int = 150, *, _times=times) -> None:
            nonlocal t
            t += _ri(rng, lo, hi)
            _times.append(t)

        sale = ctx.sale_at(start)
        high_intent = rng.random() < (0.45 if sale else 0.3)
        cart: list[tuple[int, bool]] = []  # (product, is_repeat)

        # 1. Consumables that are due.
        for pidx in [p for p, (when, _) in due.items() if when <= start][:2]:
            if rng.random() < 0.65:
                tick()
                emit(EventType.VIEW, pidx)
                tick()
                emit(EventType.CART_ADD, pidx)
                cart.append((pidx, True))
            else:
                due[pidx][0] += 7 * DAY
                due[pidx][1] += 1
                if due[pidx][1] > 3:
                    del due[pidx]

        # 2. Browse one category, sometimes two; maybe start with a search.
        n_cats = 1 + int(rng.random() < 0.25)
        for c_no in range(n_cats):
            if rng.random() < 0.08:  # exploration: a popular category
                li = int(np.searchsorted(ctx.leaf_pop_cdf, rng.random(), side="right"))
            else:
                li = int(np.searchsorted(taste_cdf, rng.random(), side="right"))
            li = min(li, len(ctx.leaf_items) - 1)
            cand = ctx.leaf_items[li]
            if len(cand) == 0:
                continue
            if c_no == 0 and rng.random() < 0.4:
                cand = _search(rng, ctx, li, cand, member, brand_aff, tick, emit)
            w = score[cand]
            k = min(len(cand), 1 + int(rng.geometric(0.35)), 8 if c_no == 0 else 3)
            # Weighted sampling without replacement (Efraimidis-Spirakis keys).
            keys = rng.exponential(size=len(cand)) / w
            viewed = cand[np.argsort(keys)[:k]].tolist()
            for pidx in viewed:
                tick()
                emit(EventType.VIEW, pidx)
                f = fit[pidx]
                if pidx not in favourites and rng.random() < 0.015 + 0.05 * f:
                    tick(3, 20)
                    emit(EventType.FAVORITE, pidx)
                    favourites[pidx] = None
                p_cart = (0.03 + 0.12 * f) * (2.5 if high_intent else 1.0)
                if sensitive and (sale or ctx.discounted[pidx]):
                    p_cart *= 1.6
                if rng.random() < p_cart:
                    tick(3, 40)
                    emit(EventType.CART_ADD, pidx)
                    cart.append((pidx, False))

        # 3. Favourites: revisit one, or drop one.
        if favourites and rng.random() < 0.08:
            fav = list(favourites)[_ri(rng, 0, len(favourites))]
            tick()
            emit(EventType.VIEW, fav)
            if rng.random() < 0.35:
                tick(3, 40)
                emit(EventType.CART_ADD, fav)
                cart.append((fav, False))
        elif favourites and rng.random() < 0.03:
            fav = list(favourites)[_ri(rng, 0, len(favourites))]
            tick(3, 30)
            emit(EventType.UNFAVORITE, fav)
            del favourites[fav]

        # 4. Checkout: some cart lines removed, the rest bought with a fit-driven chance.
        buy: dict[int, None] = {}
        for pidx, repeat in cart:
            if pidx in buy:
                continue
            if not repeat and rng.random() < 0.2:
                tick(3, 60)
                emit(EventType.CART_REMOVE, pidx)
                continue
            p_buy = 0.85 if repeat else 0.3 + 0.5 * fit[pidx] + (0.15 if high_intent else 0.0)
            if rng.random() < p_buy:
                buy[pidx] = None
        if buy:
            tick(20, 240)
            if t >= end_ts:  # the session ran past the end of the window: no order
                buy.clear()
                times.pop()
        if buy:
            n_orders += 1
            order, lines = _place_order(rng, config, ctx, member, n_orders, t, list(buy), fit, sale)
            for line_no, (pidx, qty, unit) in enumerate(lines):
                emit(EventType.PURCHASE, pidx, qty=qty, value=unit, ref=order.order_id)
                if line_no:
                    times.append(t)
            orders.append(order)
            completed_like = order.status not in (OrderStatus.CANCELLED,)
            for pidx, _qty, _unit in lines:
                cycle = ctx.cycle_days[pidx]
                if cycle and completed_like:
                    due[pidx] = [t + int(cycle * DAY * rng.lognormal(0.0, 0.2)), 0]
            for (pidx, _qty, _unit), line in zip(lines, order.lines, strict=True):
                if line.review is not None:
                    rts = int(line.review.created_at.timestamp())
                    rating = _RATINGS[line.review.rating]
                    rows.append(
                        (rts, mi, 1_000_000 + seq, ext, EventType.RATING, pidx, "", 1, rating,
                         order.order_id, session)
                    )  # fmt: skip
                    seq += 1

        for ts, (etype, pidx, query, qty, value, ref, sess) in zip(times, events, strict=True):
            if ts >= end_ts:
                break
            rows.append((ts, mi, seq, ext, etype, pidx, query, qty, value, ref, sess))
            seq += 1


def _search(rng, ctx: _Catalog, li: int, cand, member: DemoMember, brand_aff, tick, emit):
    """Emit a search event for leaf ``li``; return the products the results show."""
    leaf = ctx.leaf_spec[li]
    dept = ctx.leaf_dept[li]
    ni = _ri(rng, 0, len(leaf["nouns"]))
    noun_en, noun_zh, _ = leaf["nouns"][ni]
    shown = ctx.noun_items.get((li, ni), cand)
    roll = rng.random()
    if member.language == "zh-hans" and roll < 0.45:
        query = noun_zh
    elif roll < 0.7:
        query = noun_en.lower()
    elif roll < 0.85:
        adj = dept["adjectives"][_ri(rng, 0, len(dept["adjectives"]))][0]
        query = f"{adj} {noun_en}".lower()
    else:
        # A brand search: the brand the member likes most among this leaf's products.
        brands_here = ctx.cat.product_brand[cand]
        best = int(brands_here[int(np.argmax(brand_aff[cand]))])
        query = f"{ctx.cat.brands[best].name} {noun_en}".lower()
        branded = cand[brands_here == best]
        shown = branded if len(branded) else shown
    if len(shown) == 0:
        shown = cand
    tick(2, 20)
    emit(EventType.SEARCH, -1, query, 1, Decimal(len(shown)))
    return shown


def _status_timeline(rng, placed: int, end_ts: int) -> tuple[str, list[tuple[str, int]]]:
    changes = [(OrderStatus.PENDING_PAYMENT, placed)]
    roll = rng.random()
    t = placed + _ri(rng, 30, 1800)
    if roll < 0.025:  # never paid
        t = placed + _ri(rng, 1800, 86_400)
        if t < end_ts:
            changes.append((OrderStatus.CANCELLED, t))
        return changes[-1][0], changes
    if t >= end_ts:
        return changes[-1][0], changes
    changes.append((OrderStatus.PAID, t))
    if roll < 0.04:  # cancelled after paying, before shipping
        t += _ri(rng, 600, 43_200)
        if t < end_ts:
            changes.append((OrderStatus.CANCELLED, t))
        return changes[-1][0], changes
    for status, lo, hi in (
        (OrderStatus.SHIPPED, 4 * 3600, 2 * DAY),
        (OrderStatus.DELIVERED, DAY, 4 * DAY),
    ):
        t += _ri(rng, lo, hi)
        if t >= end_ts:
            return changes[-1][0], changes
        changes.append((status, t))
    if roll < 0.09:  # returned after delivery
        t += _ri(rng, DAY, 7 * DAY)
        status = OrderStatus.REFUNDED
    else:  # confirmed by the member or automatically after 10 days
        t += _ri(rng, 3600, 10 * DAY) if rng.random() < 0.6 else 10 * DAY
        status = OrderStatus.COMPLETED
    if t < end_ts:
        changes.append((status, t))
    return changes[-1][0], changes


def _review_text(order_id: str, pidx: int, rating: int, language: str) -> tuple[str, str]:
    """Title and body of a review: remarks on two or three aspects, each positive with a
    chance set by the rating, in the member's language. Drawn from a generator of
    its own (seeded by order and product), so review texts do not shift the rest
    of the history."""
    rng = np.random.default_rng(zlib.crc32(f"{order_id}/{pidx}".encode()))
    lang = "zh-hans" if language == "zh-hans" else "en"
    aspects = V.REVIEW_ASPECTS[lang]
    names = list(aspects)
    chosen = rng.choice(len(names), size=int(rng.integers(2, 4)), replace=False)
    tones = [bool(rng.random() < V.REVIEW_POSITIVE_CHANCE[rating]) for _ in chosen]
    remarks = [_pick(rng, aspects[names[i]][tone]) for i, tone in zip(chosen, tones, strict=True)]
    positive = sum(tones)
    tone = True if positive > len(tones) / 2 else False if positive < len(tones) / 2 else None
    if rng.random() < 0.25:
        tone = None  # a neutral title now and then
    title = _pick(rng, V.REVIEW_TITLES_BY_TONE[lang][tone])
    return title, ("" if lang == "zh-hans" else " ").join(remarks)


def _place_order(rng, config, ctx: _Catalog, member, n_orders, t, products, fit, sale):
    order_id = f"DO-{member.external_id}-{n_orders:04d}"
    status, changes = _status_timeline(rng, t, config.end_ts)
    delivered_at = next((ts for s, ts in changes if s == OrderStatus.DELIVERED), None)
    lines = []
    order_lines = []
    for pidx in products:
        if ctx.cycle_days[pidx]:
            qty = 1 + int(rng.random() < 0.3) * _ri(rng, 1, 3)
        else:
            qty = 1 + int(rng.random() < 0.06)
        unit = ctx.prices[pidx]
        if sale is not None:
            unit = (unit * (100 - sale.percent_off) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        review = None
        if delivered_at is not None and status != OrderStatus.REFUNDED and rng.random() < 0.3:
            r_ts = delivered_at + _ri(rng, 3600, 10 * DAY)
            if r_ts < config.end_ts:
                rating = int(np.clip(round(1.6 + 3.6 * fit[pidx] + rng.normal(0, 0.7)), 1, 5))
                title, body = _review_text(order_id, pidx, rating, member.language)
                review = DemoReview(
                    rating=rating, title=title, body=body, created_at=_ts_to_dt(r_ts)
                )
        lines.append((pidx, qty, unit))
        order_lines.append(DemoOrderLine(ctx.skus[pidx], qty, unit, review))
    order = DemoOrder(
        order_id=order_id,
        member=member.external_id,
        placed_at=_ts_to_dt(t),
        status=status,
        status_changes=tuple((s, _ts_to_dt(ts)) for s, ts in changes),
        lines=tuple(order_lines),
        sale_key=sale.key if sale else "",
        address_index=_ri(rng, 0, len(member.addresses)),
    )
    return order, lines
