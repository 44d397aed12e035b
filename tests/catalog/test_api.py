from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def kitchen():
    return CategoryFactory(name="Kitchen", slug="kitchen")


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# --- list ------------------------------------------------------------------------


def test_products_are_public_and_paginated(api, kitchen):
    ProductFactory.create_batch(3, category=kitchen)

    response = api.get(PRODUCTS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {"next", "previous", "results"} <= set(body)


def test_product_money_is_sent_as_strings(api, kitchen):
    ProductFactory(category=kitchen, price=Decimal("1299.50"), list_price=Decimal("1500.00"))

    row = api.get(PRODUCTS).json()["results"][0]

    assert row["price"] == "1299.50"
    assert row["list_price"] == "1500.00"
    assert row["discount_percent"] == 13


def test_products_hide_inactive_ones(api, kitchen):
    shown = ProductFactory(category=kitchen)
    ProductFactory(category=kitchen, is_active=False)

    assert ids(api.get(PRODUCTS)) == [shown.pk]


def test_products_by_category_slug_include_sub_categories(api, kitchen):
    sub = CategoryFactory(parent=kitchen)
    in_sub = ProductFactory(category=sub)
    in_root = ProductFactory(category=kitchen)
    ProductFactory(category=CategoryFactory())

    response = api.get(PRODUCTS, {"category": "kitchen"})

    assert set(ids(response)) == {in_sub.pk, in_root.pk}


def test_products_by_category_id(api, kitchen):
    product = ProductFactory(category=kitchen)
    ProductFactory(category=CategoryFactory())

    assert ids(api.get(PRODUCTS, {"category": kitchen.pk})) == [product.pk]


def test_products_by_repeated_or_comma_separated_brands(api):
    a, b = BrandFactory(), BrandFactory()
    pa, pb = ProductFactory(brand=a), ProductFactory(brand=b)
    ProductFactory(brand=BrandFactory())

    repeated = api.get(f"{PRODUCTS}?brand={a.pk}&brand={b.pk}")
    comma = api.get(PRODUCTS, {"brand": f"{a.pk},{b.pk}"})

    assert set(ids(repeated)) == set(ids(comma)) == {pa.pk, pb.pk}


def test_products_by_price_range_and_stock(api):
    wanted = ProductFactory(price=Decimal("20"), stock=1)
    ProductFactory(price=Decimal("20"), stock=0)
    ProductFactory(price=Decimal("200"))

    response = api.get(PRODUCTS, {"min_price": "10", "max_price": "50", "in_stock": "true"})

    assert ids(response) == [wanted.pk]


def test_products_search_with_q_orders_by_relevance(api, kitchen):
    in_name = ProductFactory(name="Steel kettle", category=kitchen)
    in_description = ProductFactory(
        name="Teapot", description="Goes with a kettle.", category=kitchen
    )
    ProductFactory(name="Frying pan", category=kitchen)

    response = api.get(PRODUCTS, {"q": "kettle"})

    assert ids(response) == [in_name.pk, in_description.pk]


@pytest.mark.parametrize(
    ("ordering", "expected"), [("price", ["a", "b", "c"]), ("-price", ["c", "b", "a"])]
)
def test_products_ordering_by_price(api, ordering, expected):
    for name, price in [("b", "2"), ("c", "3"), ("a", "1")]:
        ProductFactory(name=name, price=Decimal(price))

    response = api.get(PRODUCTS, {"ordering": ordering})

    assert [row["name"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "50", "max_price": "10"}, "max_price"),
        ({"ordering": "cheapest"}, "ordering"),
        ({"ordering": "relevance"}, "ordering"),
        ({"brand": "x,2"}, "brand"),
        ({"category": "no-such-category"}, "category"),
        ({"in_stock": "maybe"}, "in_stock"),
    ],
)
def test_invalid_product_filters_are_400_naming_the_parameter(api, params, parameter):
    response = api.get(PRODUCTS, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"]
    assert parameter in body["detail"]


def test_page_past_the_end_is_404_json(api):
    ProductFactory()

    response = api.get(PRODUCTS, {"page": 99})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_product_list_query_count_does_not_grow(api, kitchen, django_assert_max_num_queries):
    for _ in range(30):
        ProductFactory(category=kitchen, brand=BrandFactory())

    # category tree, category, count, page
    with django_assert_max_num_queries(4):
        response = api.get(PRODUCTS, {"category": "kitchen", "page_size": 30})

    assert len(response.json()["results"]) == 30


def test_product_search_query_count_does_not_grow(api, kitchen, django_assert_max_num_queries):
    for _ in range(30):
        ProductFactory(name="Steel kettle", category=kitchen, brand=BrandFactory())

    with django_assert_max_num_queries(4):
        response = api.get(PRODUCTS, {"q": "kettle", "page_size": 30})

    assert len(response.json()["results"]) == 30


# --- detail ----------------------------------------------------------------------------


def test_product_detail_has_description_and_attributes(api, kitchen):
    product = ProductFactory(
        category=kitchen, description="Boils.", attributes={"Capacity": "1.7 L"}
    )

    response = api.get(f"{PRODUCTS}{product.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "Boils."
    assert body["attributes"] == {"Capacity": "1.7 L"}
    assert body["category"] == {
        "id": kitchen.pk,
        "name": "Kitchen",
        "name_en": "Kitchen",
        "name_zh_hans": "",
        "slug": "kitchen",
    }
    assert body["url"] == product.get_absolute_url()


def test_inactive_product_detail_is_404_json(api):
    product = ProductFactory(is_active=False)

    response = api.get(f"{PRODUCTS}{product.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- categories ----------------------------------------------------------------------


def test_categories_are_a_flat_list_with_parent_ids(api, kitchen):
    sub = CategoryFactory(name="Kettles", parent=kitchen)
    CategoryFactory(name="Hidden", is_active=False)

    response = api.get(CATEGORIES)

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()}
    assert set(rows) == {"Kitchen", "Kettles"}
    assert rows["Kettles"]["parent"] == kitchen.pk
    assert rows["Kitchen"]["parent"] is None
    assert rows["Kettles"]["id"] == sub.pk


def test_categories_query_count_is_fixed(api, django_assert_max_num_queries):
    roots = CategoryFactory.create_batch(10)
    for root in roots:
        CategoryFactory.create_batch(2, parent=root)

    with django_assert_max_num_queries(2):
        response = api.get(CATEGORIES)

    assert len(response.json()) == 30


def test_schema_documents_the_product_filters(api):
    response = api.get("/api/schema/", {"format": "json"})

    parameters = {
        p["name"] for p in response.json()["paths"]["/api/v1/products/"]["get"]["parameters"]
    }
    assert {
        "q",
        "category",
        "brand",
        "min_price",
        "max_price",
        "in_stock",
        "ordering",
    } <= parameters


def test_product_detail_leaves_out_internal_attributes(api, kitchen):
    product = ProductFactory(category=kitchen, attributes={"Capacity": "1 L", "_name_zh": "水壶"})

    body = api.get(f"/api/v1/products/{product.pk}/").json()

    assert body["attributes"] == {"Capacity": "1 L"}
