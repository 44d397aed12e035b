from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from catalog import selectors
from catalog.models import Product
from catalog.selectors import Ordering
from tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """Kitchen > (Kettles > Electric kettles, Pans); Garden."""
    kitchen = CategoryFactory(name="Kitchen", position=1)
    kettles = CategoryFactory(name="Kettles", parent=kitchen)
    electric = CategoryFactory(name="Electric kettles", parent=kettles)
    pans = CategoryFactory(name="Pans", parent=kitchen)
    garden = CategoryFactory(name="Garden", position=2)
    return {
        "kitchen": kitchen,
        "kettles": kettles,
        "electric": electric,
        "pans": pans,
        "garden": garden,
    }


# --- category tree -------------------------------------------------------------


def test_departments_are_the_active_root_categories_in_menu_order(tree):
    CategoryFactory(name="Hidden", is_active=False)

    departments = selectors.category_departments()

    assert [d.name for d in departments] == ["Kitchen", "Garden"]


def test_descendant_ids_include_the_category_and_every_level_below(tree):
    ids = selectors.category_descendant_ids(tree["kitchen"])

    assert set(ids) == {
        t.pk for t in (tree["kitchen"], tree["kettles"], tree["electric"], tree["pans"])
    }


def test_descendant_ids_skip_inactive_subtrees(tree):
    tree["kettles"].is_active = False
    tree["kettles"].save()

    ids = selectors.category_descendant_ids(tree["kitchen"])

    assert set(ids) == {tree["kitchen"].pk, tree["pans"].pk}


def test_category_tree_is_read_with_one_query_then_served_from_cache(
    tree, django_assert_num_queries
):
    with django_assert_num_queries(1):
        selectors.category_descendant_ids(tree["kitchen"])
    with django_assert_num_queries(0):
        selectors.category_descendant_ids(tree["kettles"])
        selectors.category_departments()
        selectors.category_breadcrumbs(tree["electric"])


def test_saving_a_category_refreshes_the_cached_tree(tree):
    selectors.category_departments()  # warm the cache

    CategoryFactory(name="Books", position=3)

    assert [d.name for d in selectors.category_departments()] == ["Kitchen", "Garden", "Books"]


def test_deleting_a_category_refreshes_the_cached_tree(tree):
    selectors.category_departments()

    tree["garden"].delete()

    assert [d.name for d in selectors.category_departments()] == ["Kitchen"]


def test_breadcrumbs_run_from_department_to_the_category(tree):
    crumbs = selectors.category_breadcrumbs(tree["electric"])

    assert [c.name for c in crumbs] == ["Kitchen", "Kettles", "Electric kettles"]


# --- product_list ------------------------------------------------------------------


def test_product_list_of_a_category_includes_sub_category_products(tree):
    in_sub = ProductFactory(category=tree["electric"])
    in_root = ProductFactory(category=tree["kitchen"])
    ProductFactory(category=tree["garden"])

    products = selectors.product_list(category=tree["kitchen"])

    assert set(products) == {in_sub, in_root}


def test_product_list_hides_inactive_products_and_products_of_inactive_categories(tree):
    shown = ProductFactory(category=tree["garden"])
    ProductFactory(category=tree["garden"], is_active=False)
    ProductFactory(category=CategoryFactory(is_active=False))

    assert list(selectors.product_list()) == [shown]


def test_product_list_filters_by_brands(tree):
    acme, bolt, other = BrandFactory(), BrandFactory(), BrandFactory()
    a = ProductFactory(brand=acme)
    b = ProductFactory(brand=bolt)
    ProductFactory(brand=other)

    assert set(selectors.product_list(brand_ids=[acme.pk, bolt.pk])) == {a, b}


def test_product_list_price_range_is_inclusive():
    ProductFactory(price=Decimal("9.99"))
    ten = ProductFactory(price=Decimal("10.00"))
    twenty = ProductFactory(price=Decimal("20.00"))
    ProductFactory(price=Decimal("20.01"))

    products = selectors.product_list(min_price=Decimal("10"), max_price=Decimal("20"))

    assert set(products) == {ten, twenty}


def test_product_list_in_stock_only_drops_sold_out_products():
    available = ProductFactory(stock=1)
    ProductFactory(stock=0)

    assert list(selectors.product_list(in_stock_only=True)) == [available]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (Ordering.PRICE_ASC, ["cheap", "mid", "dear"]),
        (Ordering.PRICE_DESC, ["dear", "mid", "cheap"]),
        (Ordering.NAME, ["cheap", "dear", "mid"]),
        (Ordering.NEWEST, ["mid", "dear", "cheap"]),
    ],
)
def test_product_list_orderings(ordering, expected):
    now = timezone.now()
    for name, price, age_days in [("cheap", "1", 3), ("mid", "5", 1), ("dear", "9", 2)]:
        product = ProductFactory(name=name, price=Decimal(price))
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=age_days))

    products = selectors.product_list(ordering=ordering)

    assert [p.name for p in products] == expected


def test_product_list_fetches_category_and_brand_in_the_same_query(django_assert_num_queries):
    ProductFactory.create_batch(5)

    with django_assert_num_queries(1):
        names = [(p.category.name, p.brand.name) for p in selectors.product_list()]

    assert len(names) == 5


def test_deals_are_in_stock_reduced_products_biggest_reduction_first():
    half = ProductFactory(price=Decimal("50"), list_price=Decimal("100"))
    tenth = ProductFactory(price=Decimal("90"), list_price=Decimal("100"))
    ProductFactory(price=Decimal("10"), list_price=Decimal("100"), stock=0)
    ProductFactory(price=Decimal("10"), list_price=None)

    assert selectors.product_deals() == [half, tenth]


# --- product_search (runs on SQLite and on PostgreSQL) ----------------------------------


@pytest.fixture
def catalogue():
    kitchen = CategoryFactory(name="Kitchen")
    acme = BrandFactory(name="Acme")
    zen = BrandFactory(name="Zenware")
    return {
        "kettle": ProductFactory(
            name="Steel kettle", description="Boils water fast.", category=kitchen, brand=acme
        ),
        "teapot": ProductFactory(
            name="Glass teapot", description="Pairs with a kettle.", category=kitchen, brand=zen
        ),
        "pan": ProductFactory(
            name="Frying pan", description="Non-stick.", category=kitchen, brand=acme
        ),
        "cjk": ProductFactory(name="电热水壶 1.7升", description="", category=kitchen, brand=zen),
    }


def test_search_matches_words_in_the_name(catalogue):
    assert catalogue["pan"] in selectors.product_search("frying")


def test_search_is_case_insensitive(catalogue):
    assert list(selectors.product_search("FRYING PAN")) == [catalogue["pan"]]


def test_search_matches_the_brand_name(catalogue):
    assert set(selectors.product_search("zenware")) == {catalogue["teapot"], catalogue["cjk"]}


def test_search_requires_every_word_to_match(catalogue):
    assert list(selectors.product_search("acme kettle")) == [catalogue["kettle"]]


def test_search_finds_partial_words_in_the_name(catalogue):
    assert list(selectors.product_search("fry")) == [catalogue["pan"]]


def test_search_finds_chinese_text_inside_a_name(catalogue):
    assert list(selectors.product_search("水壶")) == [catalogue["cjk"]]


def test_search_ranks_name_matches_above_description_matches(catalogue):
    results = list(selectors.product_search("kettle"))

    assert results == [catalogue["kettle"], catalogue["teapot"]]


def test_search_with_no_words_matches_nothing(catalogue):
    assert list(selectors.product_search("  !!  ")) == []


def test_search_applies_the_listing_filters(catalogue):
    Product.objects.filter(pk=catalogue["kettle"].pk).update(price=Decimal("80"))
    Product.objects.filter(pk=catalogue["teapot"].pk).update(price=Decimal("20"))

    results = selectors.product_search("kettle", max_price=Decimal("50"))

    assert list(results) == [catalogue["teapot"]]


def test_search_hides_inactive_products(catalogue):
    Product.objects.filter(pk=catalogue["pan"].pk).update(is_active=False)

    assert list(selectors.product_search("frying")) == []


def test_search_can_be_ordered_by_price(catalogue):
    Product.objects.filter(pk=catalogue["kettle"].pk).update(price=Decimal("30"))
    Product.objects.filter(pk=catalogue["teapot"].pk).update(price=Decimal("20"))

    results = selectors.product_search("kettle", ordering=Ordering.PRICE_ASC)

    assert list(results) == [catalogue["teapot"], catalogue["kettle"]]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_postgres_search_understands_websearch_syntax(catalogue):
    results = selectors.product_search("kettle -glass")

    assert list(results) == [catalogue["kettle"]]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_postgres_search_uses_the_gin_index(catalogue):
    # Given: enough products that scanning them all is the expensive plan
    category, brand = catalogue["pan"].category, catalogue["pan"].brand
    Product.objects.bulk_create(
        Product(
            sku=f"FILL-{i}",
            name=f"Filler {i}",
            slug=f"filler-{i}",
            description="plain goods",
            category=category,
            brand=brand,
            price=Decimal("5"),
        )
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = selectors.product_search("kettle").query.sql_with_params()

        # When
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # Then
    assert "catalog_product_search_gin" in plan
    assert "catalog_product_name_trgm" in plan
