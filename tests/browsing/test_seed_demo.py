"""The demo shop generator (pure) and ``manage.py seed_demo`` (writer + command)."""

from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Address, Profile, User
from browsing.demo.generator import (
    DemoConfig,
    EventType,
    OrderStatus,
    build_catalogue,
    generate_shop,
)
from browsing.demo.writer import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_PASSWORD
from browsing.models import Event
from catalog.models import Brand, Category, Product

TINY = {"seed": 7, "members": 30, "products": 80, "months": 3, "end": date(2026, 6, 1)}


def tiny_config(**overrides) -> DemoConfig:
    return DemoConfig(**{**TINY, **overrides})


def seed(**overrides) -> str:
    """Run the command at the tiny scale; return its output."""
    opts = {**TINY, **overrides}
    out = StringIO()
    call_command(
        "seed_demo",
        "--seed", str(opts["seed"]),
        "--members", str(opts["members"]),
        "--products", str(opts["products"]),
        "--months", str(opts["months"]),
        "--end", opts["end"].isoformat(),
        stdout=out,
    )  # fmt: skip
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {
        "categories": Category.objects.count(),
        "brands": Brand.objects.count(),
        "products": Product.objects.count(),
        "users": User.objects.count(),
        "profiles": Profile.objects.count(),
        "addresses": Address.objects.count(),
        "events": Event.objects.count(),
        "favourite_categories": Profile.favourite_categories.through.objects.count(),
        "favourite_brands": Profile.favourite_brands.through.objects.count(),
    }


@pytest.fixture(scope="module")
def tiny_shop():
    return generate_shop(tiny_config())


# --- the pure generator -------------------------------------------------------------


def test_catalogue_has_the_issue_minimums_at_small_scale():
    # Given the small scale's catalogue
    catalogue = build_catalogue(DemoConfig.for_scale("small", end=date(2026, 6, 1)))

    # Then it has 25+ leaf categories under a few departments, 60 brands, 1,500 products
    leaves = [c for c in catalogue.categories if c.parent_key is not None]
    departments = [c for c in catalogue.categories if c.parent_key is None]
    assert len(leaves) >= 25
    assert 5 <= len(departments) <= 10
    assert len(catalogue.brands) == 60
    assert len(catalogue.products) == 1_500
    # with unique SKUs and names, every product in a leaf category
    assert len({p.sku for p in catalogue.products}) == 1_500
    assert len({p.name for p in catalogue.products}) == 1_500
    assert {p.category_key for p in catalogue.products} <= {c.key for c in leaves}


def test_prices_are_long_tailed_decimals_with_some_list_prices_and_zero_stock():
    catalogue = build_catalogue(DemoConfig.for_scale("small", end=date(2026, 6, 1)))
    prices = sorted(p.price for p in catalogue.products)

    assert all(isinstance(p, Decimal) and p > 0 for p in prices)
    assert all(p == p.quantize(Decimal("0.01")) for p in prices)
    assert prices[-1] > 8 * prices[len(prices) // 2]  # long right tail
    with_list = [p for p in catalogue.products if p.list_price is not None]
    assert 0.1 < len(with_list) / len(prices) < 0.5
    assert all(p.list_price > p.price for p in with_list)
    out_of_stock = sum(p.stock == 0 for p in catalogue.products) / len(prices)
    assert 0.01 < out_of_stock < 0.2


def test_generator_is_deterministic_for_a_seed(tiny_shop):
    again = generate_shop(tiny_config())

    assert again.products == tiny_shop.products
    assert again.members == tiny_shop.members
    assert again.events == tiny_shop.events
    assert again.orders == tiny_shop.orders


def test_another_seed_gives_another_shop(tiny_shop):
    other = generate_shop(tiny_config(seed=8))

    assert [p.name for p in other.products] != [p.name for p in tiny_shop.products]
    assert [m.email for m in other.members] != [m.email for m in tiny_shop.members]
    assert other.events != tiny_shop.events


def test_history_of_a_subset_of_members_equals_their_history_in_the_full_run(tiny_shop):
    chosen = {"C00003", "C00011", "C00027"}

    partial = generate_shop(tiny_config(), only_members=chosen)

    assert partial.events == [e for e in tiny_shop.events if e.member in chosen]
    assert partial.orders == [o for o in tiny_shop.orders if o.member in chosen]


def test_events_are_time_ordered_inside_the_window_and_after_joining(tiny_shop):
    config = tiny_shop.config
    start = datetime.fromtimestamp(config.start_ts, UTC)
    end = datetime.fromtimestamp(config.end_ts, UTC)
    joined = {m.external_id: m.joined_at for m in tiny_shop.members}
    times = [e.occurred_at for e in tiny_shop.events]

    assert tiny_shop.events, "the tiny shop has some history"
    assert times == sorted(times)
    assert all(t.tzinfo is not None and t.utcoffset().total_seconds() == 0 for t in times)
    assert start <= times[0] and times[-1] < end
    assert all(e.occurred_at > joined[e.member] for e in tiny_shop.events)


def test_events_carry_the_fields_their_type_needs(tiny_shop):
    for e in tiny_shop.events:
        if e.event_type == EventType.SEARCH:
            assert e.query and e.sku is None and e.value is not None and e.value >= 0
        else:
            assert e.sku is not None and e.query == ""
        if e.event_type == EventType.RATING:
            assert Decimal(1) <= e.value <= Decimal(5) and e.ref
    types = Counter(e.event_type for e in tiny_shop.events)
    assert types[EventType.VIEW] > types[EventType.CART_ADD] > types[EventType.PURCHASE] > 0


def test_orders_are_consistent_with_purchase_events(tiny_shop):
    # Given every purchase event, keyed by (order, sku)
    purchases = [e for e in tiny_shop.events if e.event_type == EventType.PURCHASE]
    lines = {(o.order_id, line.sku): (o, line) for o in tiny_shop.orders for line in o.lines}

    # Then each purchase event row is exactly one order line, and vice versa
    assert len(purchases) == len(lines) == sum(len(o.lines) for o in tiny_shop.orders)
    for e in purchases:
        order, line = lines[(e.ref, e.sku)]
        assert order.member == e.member
        assert order.placed_at == e.occurred_at
        assert (line.quantity, line.unit_price) == (e.quantity, e.value)
    # and every rating event is the review of a delivered order line
    ratings = [e for e in tiny_shop.events if e.event_type == EventType.RATING]
    reviews = [(o, line) for o in tiny_shop.orders for line in o.lines if line.review]
    assert len(ratings) == len(reviews)
    for e in ratings:
        order, line = lines[(e.ref, e.sku)]
        assert line.review.rating == int(e.value)
        assert line.review.created_at == e.occurred_at
        assert OrderStatus.DELIVERED in [s for s, _ in order.status_changes]


def test_order_status_history_is_a_valid_lifecycle(tiny_shop):
    allowed = {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
        OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
        OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
        OrderStatus.DELIVERED: {OrderStatus.COMPLETED, OrderStatus.REFUNDED},
    }
    for order in tiny_shop.orders:
        steps = order.status_changes
        assert steps[0] == (OrderStatus.PENDING_PAYMENT, order.placed_at)
        assert steps[-1][0] == order.status
        for (before, t0), (after, t1) in zip(steps, steps[1:], strict=False):
            assert after in allowed[before] and t1 > t0
        assert order.total == sum(line.unit_price * line.quantity for line in order.lines)


def test_later_purchases_follow_a_members_earlier_categories_more_than_popularity():
    # Given a modest shop whose history is split into an earlier and a later part
    shop = generate_shop(DemoConfig(end=date(2026, 6, 1), seed=11, members=400, products=600))
    category = {p.sku: p.category_key for p in shop.products}
    split = datetime(2026, 2, 1, tzinfo=UTC)
    weight = {EventType.PURCHASE: 3, EventType.CART_ADD: 2, EventType.FAVORITE: 2, "view": 1}
    earlier: dict[str, Counter] = defaultdict(Counter)
    popular: Counter = Counter()
    later: list[tuple[str, str]] = []
    for e in shop.events:
        if e.sku is None:
            continue
        if e.occurred_at < split:
            earlier[e.member][category[e.sku]] += weight.get(e.event_type, 0)
            popular[category[e.sku]] += e.event_type == EventType.PURCHASE
        elif e.event_type == EventType.PURCHASE:
            later.append((e.member, category[e.sku]))

    # When later purchases are predicted by each member's own top 3 categories,
    # or by the 3 most purchased categories overall
    held_out = [(m, c) for m, c in later if earlier[m]]
    top_popular = {c for c, _ in popular.most_common(3)}
    personal = sum(c in {k for k, _ in earlier[m].most_common(3)} for m, c in held_out)
    by_popularity = sum(c in top_popular for _m, c in held_out)

    # Then the member's own past wins by far
    assert len(held_out) > 300
    assert personal / len(held_out) > 0.55
    assert personal > 1.5 * by_popularity


def test_heavier_members_return_more_often():
    shop = generate_shop(DemoConfig(end=date(2026, 6, 1), seed=5, members=300, products=300))
    sessions: dict[str, set[str]] = defaultdict(set)
    for e in shop.events:
        sessions[e.member].add(e.session)
    ranked = sorted(shop.members, key=lambda m: m.traits.sessions_per_week)
    third = len(ranked) // 3
    light = sum(len(sessions[m.external_id]) for m in ranked[:third])
    heavy = sum(len(sessions[m.external_id]) for m in ranked[-third:])

    assert heavy > 4 * light


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="Unknown scale"):
        DemoConfig.for_scale("huge", end=date(2026, 6, 1))


# --- the writer and the command -------------------------------------------------------


@pytest.mark.django_db
def test_tiny_run_writes_the_generated_shop(tiny_shop):
    # When the command runs at the tiny scale
    output = seed()

    # Then the database holds exactly what the generator produced
    counts = table_counts()
    assert counts["categories"] == len(tiny_shop.categories)
    assert counts["brands"] == 60
    assert counts["products"] == 80
    assert counts["users"] == 30 + 1  # the members and the demo superuser
    assert counts["profiles"] == 30
    assert counts["addresses"] == sum(len(m.addresses) for m in tiny_shop.members)
    assert counts["events"] == len(tiny_shop.events)
    assert "Created" in output and "admin@example.com" in output


@pytest.mark.django_db
def test_written_rows_keep_their_relations(tiny_shop):
    seed()

    # Leaves hang under departments
    assert not Category.objects.filter(parent__isnull=True, products__isnull=False).exists()
    # every member has one default address and a profile with their details
    member = tiny_shop.members[0]
    user = User.objects.select_related("profile").get(external_id=member.external_id)
    assert user.email == member.email
    assert user.profile.display_name == member.display_name
    assert user.addresses.filter(is_default=True).count() == 1
    assert all(
        u.addresses.filter(is_default=True).count() == 1
        for u in User.objects.filter(external_id__isnull=False).prefetch_related("addresses")
    )
    # declared preferences are written
    declared = sum(len(m.favourite_category_keys) for m in tiny_shop.members)
    assert Profile.favourite_categories.through.objects.count() == declared
    # events are attributed, from the seed source, and match the generator per type
    assert not Event.objects.exclude(source=Event.Source.SEED).exists()
    assert not Event.objects.filter(user__isnull=True).exists()
    purchase = next(e for e in tiny_shop.events if e.event_type == EventType.PURCHASE)
    row = Event.objects.get(
        user__external_id=purchase.member, ref=purchase.ref, product__sku=purchase.sku
    )
    assert row.event_type == Event.Type.PURCHASE
    assert row.value == purchase.value
    assert row.occurred_at == purchase.occurred_at
    by_type = Counter(Event.objects.values_list("event_type", flat=True))
    assert by_type == Counter(e.event_type for e in tiny_shop.events)


@pytest.mark.django_db
def test_catalogue_is_written_in_english_and_simplified_chinese(tiny_shop):
    seed()

    # Every category and product has its Chinese name and description in the fields
    assert not Category.objects.filter(name_zh_hans="").exists()
    assert not Product.objects.filter(name_zh_hans="").exists()
    assert not Product.objects.filter(description_zh_hans="").exists()
    power = Category.objects.get(name="Chargers & Power Banks")
    assert power.name_zh_hans == "充电器与移动电源"
    demo = tiny_shop.products[0]
    product = Product.objects.get(sku=demo.sku)
    assert (product.name_zh_hans, product.description_zh_hans) == (
        demo.name_zh,
        demo.description_zh,
    )
    # and no longer as an internal attribute
    assert not any(
        "_name_zh" in attrs for attrs in Product.objects.values_list("attributes", flat=True)
    )


@pytest.mark.django_db
def test_demo_members_and_admin_can_use_the_documented_passwords():
    seed()

    member = User.objects.filter(external_id__isnull=False).first()
    admin = User.objects.get(email=ADMIN_EMAIL)
    assert member.check_password(DEMO_PASSWORD)
    assert not member.is_staff
    assert admin.check_password(ADMIN_PASSWORD)
    assert admin.is_staff and admin.is_superuser


@pytest.mark.django_db
def test_second_run_with_the_same_seed_adds_nothing():
    seed()
    before = table_counts()

    output = seed()

    assert table_counts() == before
    assert "nothing to add" in output


@pytest.mark.django_db
def test_larger_run_tops_up_only_the_missing_members(tiny_shop):
    # Given the first 20 members already seeded
    seed(members=20)
    first_events = Event.objects.filter(user__external_id="C00001").count()

    # When the full tiny scale is seeded
    seed()

    # Then the shop equals a fresh full run, and old members got no extra events
    assert User.objects.filter(external_id__isnull=False).count() == 30
    assert Event.objects.count() == len(tiny_shop.events)
    assert Event.objects.filter(user__external_id="C00001").count() == first_events


@pytest.mark.django_db
def test_existing_shop_rows_are_reused_not_duplicated():
    # Given a department and a brand that already exist with the demo's names
    Category.objects.create(name="Electronics", slug="electronics")
    Brand.objects.create(name="Voltra", slug="voltra")

    seed()

    assert Category.objects.filter(name="Electronics").count() == 1
    assert Brand.objects.filter(name="Voltra").count() == 1


@pytest.mark.django_db
def test_a_member_whose_email_is_taken_is_skipped_with_their_history(tiny_shop):
    member = tiny_shop.members[4]
    User.objects.create_user(email=member.email, password="someone-else-1")

    seed()

    assert not User.objects.filter(external_id=member.external_id).exists()
    assert User.objects.get(email=member.email).events.count() == 0
    assert Event.objects.count() == sum(e.member != member.external_id for e in tiny_shop.events)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [["--scale", "huge"], ["--members", "0"], ["--products", "-3"], ["--end", "2026-13-01"]],
)
def test_bad_options_are_refused_and_nothing_is_written(args):
    with pytest.raises(CommandError):
        call_command("seed_demo", *args, stdout=StringIO())

    assert Product.objects.count() == 0
    assert User.objects.count() == 0
