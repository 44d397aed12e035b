from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product
from tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kitchen():
    return CategoryFactory(name="Kitchen", slug="kitchen")


@pytest.fixture
def kettles(kitchen):
    return CategoryFactory(name="Kettles", slug="kettles", parent=kitchen)


def names(response) -> list[str]:
    return [p.name for p in response.context["products"]]


# --- home --------------------------------------------------------------------------


def test_home_shows_departments_new_arrivals_and_deals(client, kitchen):
    ProductFactory(name="Fresh kettle", category=kitchen)
    ProductFactory(name="Cheap pan", category=kitchen, price=Decimal("5"), list_price=Decimal("10"))

    response = client.get(reverse("browsing:home"))

    assert response.status_code == 200
    assert [d.name for d in response.context["departments"]] == ["Kitchen"]
    assert "Fresh kettle" in [p.name for p in response.context["new_arrivals"]]
    assert [p.name for p in response.context["deals"]] == ["Cheap pan"]
    assert "for_you" not in response.context  # left for the recommender, no fake list


def test_home_renders_for_an_empty_shop(client):
    response = client.get(reverse("browsing:home"))

    assert response.status_code == 200
    assert "The shop has no products yet." in response.content.decode()


def test_home_query_count_does_not_grow_with_products(
    client, kitchen, django_assert_max_num_queries
):
    ProductFactory.create_batch(30, category=kitchen, list_price=Decimal("150"))

    # + the "popular right now" strip: live version, newest products, served-list INSERT,
    # the tier-exclusive products hidden from visitors (cached across requests)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("browsing:home"))

    assert len(response.context["new_arrivals"]) == 10


def test_department_nav_costs_no_query_once_cached(client, kitchen, django_assert_num_queries):
    client.get(reverse("browsing:search"))  # warms the category tree cache

    with django_assert_num_queries(0):
        response = client.get(reverse("browsing:search"))

    assert 'href="/c/kitchen/"' in response.content.decode()


# --- category listing ---------------------------------------------------------------


def test_category_page_lists_products_of_sub_categories(client, kitchen, kettles):
    ProductFactory(name="Steel kettle", category=kettles)
    ProductFactory(name="Wok", category=kitchen)
    ProductFactory(name="Rake", category=CategoryFactory(name="Garden"))

    response = client.get(kitchen.get_absolute_url())

    assert response.status_code == 200
    assert sorted(names(response)) == ["Steel kettle", "Wok"]


def test_unknown_or_inactive_category_is_404(client):
    hidden = CategoryFactory(is_active=False)

    assert client.get("/c/nope/").status_code == 404
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_category_filters_by_brand_price_and_stock(client, kitchen):
    acme, bolt = BrandFactory(name="Acme"), BrandFactory(name="Bolt")
    ProductFactory(name="wanted", category=kitchen, brand=acme, price=Decimal("20"), stock=3)
    ProductFactory(name="other brand", category=kitchen, brand=bolt, price=Decimal("20"))
    ProductFactory(name="too dear", category=kitchen, brand=acme, price=Decimal("80"))
    ProductFactory(name="sold out", category=kitchen, brand=acme, price=Decimal("20"), stock=0)

    response = client.get(
        kitchen.get_absolute_url(),
        {"brand": acme.pk, "min_price": "10", "max_price": "50", "in_stock": "on"},
    )

    assert names(response) == ["wanted"]


def test_category_brand_filter_offers_only_brands_of_the_category(client, kitchen):
    ProductFactory(category=kitchen, brand=BrandFactory(name="Acme"))
    ProductFactory(category=CategoryFactory(), brand=BrandFactory(name="Elsewhere"))

    response = client.get(kitchen.get_absolute_url())

    assert [label for _value, label in response.context["form"].fields["brand"].choices] == ["Acme"]


def test_category_sorts_by_price(client, kitchen):
    for price in ("30", "10", "20"):
        ProductFactory(name=f"p{price}", category=kitchen, price=Decimal(price))

    response = client.get(kitchen.get_absolute_url(), {"sort": "price_desc"})

    assert names(response) == ["p30", "p20", "p10"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "-5"}, "min_price"),
        ({"min_price": "50", "max_price": "10"}, "max_price"),
        ({"sort": "cheapest"}, "sort"),
        ({"brand": "999"}, "brand"),
    ],
)
def test_bad_filter_values_are_reported_and_ignored(client, kitchen, params, field):
    ProductFactory(name="kettle", category=kitchen, price=Decimal("20"))

    response = client.get(kitchen.get_absolute_url(), params)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "Some filters were not valid" in response.content.decode()


def test_a_bad_price_filter_still_lists_the_products(client, kitchen):
    ProductFactory(name="kettle", category=kitchen)

    response = client.get(kitchen.get_absolute_url(), {"min_price": "abc"})

    assert names(response) == ["kettle"]


def test_page_past_the_end_shows_the_last_page(client, kitchen):
    ProductFactory.create_batch(30, category=kitchen)

    response = client.get(kitchen.get_absolute_url(), {"page": "999"})

    assert response.status_code == 200
    assert response.context["page"].number == 2
    assert len(response.context["products"]) == 6


def test_page_that_is_not_a_number_shows_the_first_page(client, kitchen):
    ProductFactory.create_batch(30, category=kitchen)

    response = client.get(kitchen.get_absolute_url(), {"page": "abc"})

    assert response.context["page"].number == 1
    assert len(response.context["products"]) == 24


def test_pagination_links_keep_the_filters(client, kitchen):
    ProductFactory.create_batch(30, category=kitchen)

    response = client.get(kitchen.get_absolute_url(), {"sort": "name"})

    assert "?sort=name&amp;page=2" in response.content.decode()


def test_category_page_query_count_does_not_grow_with_products(
    client, kitchen, kettles, django_assert_max_num_queries
):
    for i in range(30):
        ProductFactory(category=kettles if i % 2 else kitchen, brand=BrandFactory())

    # brand facet ids, then the brands (selectors.brand_facets)
    with django_assert_max_num_queries(6):
        response = client.get(kitchen.get_absolute_url(), {"sort": "price_asc"})

    assert len(response.context["products"]) == 24


# --- product page -----------------------------------------------------------------


def test_product_page_shows_price_discount_stock_and_attributes(client, kitchen, kettles):
    product = ProductFactory(
        name="Steel kettle",
        category=kettles,
        brand=BrandFactory(name="Acme"),
        price=Decimal("75.00"),
        list_price=Decimal("100.00"),
        stock=3,
        attributes={"Capacity": "1.7 L", "Colour": "Steel"},
        description="Boils fast.",
    )

    response = client.get(product.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "¥75.00" in html
    assert '<s class="list-price">' in html and "¥100.00" in html
    assert "25% off" in html
    assert "Only 3 left in stock" in html
    assert '<th scope="row">Capacity</th><td>1.7 L</td>' in html
    assert "Acme" in html and "Boils fast." in html
    assert [c.name for c in response.context["breadcrumbs"]] == ["Kitchen", "Kettles"]


def test_product_page_says_out_of_stock(client):
    product = ProductFactory(stock=0)

    response = client.get(product.get_absolute_url())

    assert "Out of stock" in response.content.decode()


def test_product_page_shows_a_placeholder_when_there_is_no_image(client, kitchen):
    product = ProductFactory(category=kitchen)

    html = client.get(product.get_absolute_url()).content.decode()

    assert 'class="product-img placeholder"' in html
    assert '<span aria-hidden="true">K</span>' in html


def test_product_page_redirects_a_wrong_slug_to_the_canonical_url(client):
    product = ProductFactory(name="Steel kettle", slug="steel-kettle")

    response = client.get(reverse("browsing:product", args=[product.pk, "old-name"]))

    assert response.status_code == 301
    assert response["Location"] == f"/p/{product.pk}/steel-kettle/"


def test_product_page_without_slug_redirects_to_the_canonical_url(client):
    product = ProductFactory(slug="kettle")

    response = client.get(f"/p/{product.pk}/")

    assert response.status_code == 301
    assert response["Location"] == product.get_absolute_url()


def test_inactive_or_unknown_product_is_404(client):
    product = ProductFactory(is_active=False)

    assert client.get(product.get_absolute_url()).status_code == 404
    assert client.get("/p/987654/anything/").status_code == 404


def test_product_page_lists_other_products_of_the_same_category(client, kitchen):
    product = ProductFactory(category=kitchen)
    sibling = ProductFactory(category=kitchen)
    ProductFactory(category=kitchen, is_active=False)
    ProductFactory(category=CategoryFactory())

    response = client.get(product.get_absolute_url())

    assert response.context["same_category"] == [sibling]


def test_product_page_query_count_is_fixed(client, kitchen, django_assert_max_num_queries):
    product = ProductFactory(category=kitchen)
    ProductFactory.create_batch(30, category=kitchen)
    client.get(product.get_absolute_url())  # warms the category tree, starts the session

    # session, product, the collapsed view (one UPDATE), products of the category,
    # and the reviews section (rating summary, latest reviews, their photos)
    with django_assert_max_num_queries(7):
        response = client.get(product.get_absolute_url())

    assert len(response.context["same_category"]) == 8


# --- search -------------------------------------------------------------------------


def test_search_shows_results_and_their_count(client, kitchen):
    ProductFactory(name="Steel kettle", category=kitchen)
    ProductFactory(name="Glass kettle", category=kitchen)
    ProductFactory(name="Frying pan", category=kitchen)

    response = client.get(reverse("browsing:search"), {"q": "kettle"})

    assert sorted(names(response)) == ["Glass kettle", "Steel kettle"]
    assert "2 products found" in response.content.decode()


def test_search_with_an_empty_query_asks_for_words(client):
    response = client.get(reverse("browsing:search"), {"q": "   "})

    assert response.status_code == 200
    assert "Type what you are looking for" in response.content.decode()


def test_search_without_results_says_so(client, kitchen):
    ProductFactory(name="Frying pan", category=kitchen)

    response = client.get(reverse("browsing:search"), {"q": "submarine"})

    assert "No products match your search" in response.content.decode()


def test_search_applies_filters_and_sorting(client, kitchen):
    ProductFactory(name="Cheap kettle", category=kitchen, price=Decimal("10"))
    ProductFactory(name="Mid kettle", category=kitchen, price=Decimal("20"))
    ProductFactory(name="Dear kettle", category=kitchen, price=Decimal("90"))

    response = client.get(
        reverse("browsing:search"), {"q": "kettle", "max_price": "50", "sort": "price_desc"}
    )

    assert names(response) == ["Mid kettle", "Cheap kettle"]


def test_search_reports_a_bad_price_and_still_shows_results(client, kitchen):
    ProductFactory(name="Steel kettle", category=kitchen)

    response = client.get(reverse("browsing:search"), {"q": "kettle", "min_price": "abc"})

    assert response.status_code == 200
    assert "min_price" in response.context["form"].errors
    assert names(response) == ["Steel kettle"]


def test_search_treats_an_overlong_query_without_error(client):
    response = client.get(reverse("browsing:search"), {"q": "kettle " * 200})

    assert response.status_code == 200


def test_search_page_query_count_does_not_grow_with_results(
    client, kitchen, django_assert_max_num_queries
):
    for _ in range(30):
        ProductFactory(name="Steel kettle", category=kitchen, brand=BrandFactory())

    client.get(reverse("browsing:search"), {"q": "kettle"})  # warms the cache, starts the session

    # session; brands named like the word; brand facet ids, then the brands
    # (selectors.brand_facets); brands again for the filtered search; count; page;
    # the collapsed search event (UPDATE, then its id)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("browsing:search"), {"q": "kettle"})

    assert len(response.context["products"]) == 24
    assert Product.objects.count() == 30


def test_filter_box_opens_only_when_filters_are_in_use(client, kitchen):
    ProductFactory(category=kitchen)

    plain = client.get(kitchen.get_absolute_url()).content.decode()
    filtered = client.get(kitchen.get_absolute_url(), {"in_stock": "on"}).content.decode()

    assert 'id="filters" open' not in plain
    assert 'id="filters" open' in filtered


def test_product_page_hides_internal_attributes(client, kettles):
    product = ProductFactory(
        category=kettles, attributes={"battery_life": "10 h", "_name_zh": "水壶", "_tier": "x"}
    )

    html = client.get(product.get_absolute_url()).content.decode()

    assert '<th scope="row">Battery life</th><td>10 h</td>' in html
    assert "水壶" not in html and "_tier" not in html


@pytest.mark.parametrize("query", ["%00abc", "a%00", "%01%1f"])
def test_search_with_control_characters_is_not_an_error(client, query):
    ProductFactory(name="abc kettle")

    response = client.get(f"/search/?q={query}")

    assert response.status_code == 200
