"""Bilingual catalogue content: Chinese names and descriptions in a zh-hans request,
English otherwise and whenever the Chinese field is empty."""

import pytest
from django.urls import reverse
from django.utils import translation

from catalog import selectors
from catalog.content import localized
from catalog.models import Category, Product
from tests.factories import CategoryFactory, ProductFactory, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}  # what a Chinese browser sends
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def kitchen():
    return CategoryFactory(name="Kitchen", name_zh_hans="厨房", slug="kitchen")


@pytest.fixture
def kettles(kitchen):
    return CategoryFactory(name="Kettles", name_zh_hans="水壶", slug="kettles", parent=kitchen)


@pytest.fixture
def kettle(kettles):
    return ProductFactory(
        name="Steel Kettle",
        name_zh_hans="不锈钢电水壶",
        description="Boils a litre in three minutes.",
        description_zh_hans="三分钟烧开一升水。",
        category=kettles,
    )


# --- the helper -----------------------------------------------------------------------


def test_localized_gives_chinese_only_in_zh_hans_and_only_when_given():
    product = Product(name="Kettle", name_zh_hans="水壶", description="Boils.")

    with translation.override("zh-hans"):
        assert localized(product, "name") == "水壶"
        assert localized(product, "description") == "Boils."  # empty Chinese: English
    with translation.override("en"):
        assert localized(product, "name") == "Kettle"


def test_blank_chinese_name_falls_back_to_english():
    category = Category(name="Kitchen", name_zh_hans="   ")

    with translation.override("zh-hans"):
        assert category.display_name == "Kitchen"


# --- storefront pages -----------------------------------------------------------------


def test_product_page_in_chinese_shows_chinese_name_description_and_breadcrumbs(client, kettle):
    response = client.get(kettle.get_absolute_url(), **ZH)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>不锈钢电水壶 ·" in html
    assert '<h1 class="page-title">不锈钢电水壶</h1>' in html
    assert "三分钟烧开一升水。" in html
    assert ">厨房</a>" in html and ">水壶</a>" in html  # breadcrumbs
    assert "Steel Kettle" not in html and "Boils a litre" not in html


def test_product_page_in_english_shows_english_content(client, kettle):
    response = client.get(kettle.get_absolute_url(), **EN)

    html = response.content.decode()
    assert '<h1 class="page-title">Steel Kettle</h1>' in html
    assert "Boils a litre in three minutes." in html
    assert ">Kitchen</a>" in html
    assert "不锈钢电水壶" not in html and "厨房" not in html


def test_product_without_chinese_text_shows_english_on_a_chinese_page(client, kettles):
    product = ProductFactory(name="Glass Kettle", description="See-through.", category=kettles)

    response = client.get(product.get_absolute_url(), **ZH)

    html = response.content.decode()
    assert '<h1 class="page-title">Glass Kettle</h1>' in html
    assert "See-through." in html
    assert ">水壶</a>" in html  # the category has its Chinese name


def test_category_page_and_product_cards_in_chinese(client, kitchen, kettles, kettle):
    response = client.get(kitchen.get_absolute_url(), **ZH)

    html = response.content.decode()
    assert '<h1 class="page-title">厨房</h1>' in html
    assert f'<a class="chip" href="{kettles.get_absolute_url()}">水壶</a>' in html
    assert '<span class="product-name">不锈钢电水壶</span>' in html


def test_search_results_show_chinese_names(client, kettle):
    response = client.get(reverse("browsing:search"), {"q": "kettle"}, **ZH)

    assert '<span class="product-name">不锈钢电水壶</span>' in response.content.decode()


def test_switching_language_switches_the_department_nav(client, kitchen):
    client.get(reverse("browsing:home"), **EN)  # caches the category tree
    english = client.get(reverse("browsing:home"), **EN).content.decode()

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    chinese = client.get(reverse("browsing:home")).content.decode()

    assert 'class="container dept-nav"' in english
    assert ">Kitchen</a>" in english and "厨房" not in english
    assert ">厨房</a>" in chinese and ">Kitchen</a>" not in chinese


def test_renamed_chinese_category_shows_at_once(client, kitchen):
    client.get(reverse("browsing:home"), **ZH)  # caches the category tree

    kitchen.name_zh_hans = "厨房用品"
    kitchen.save()
    html = client.get(reverse("browsing:home"), **ZH).content.decode()

    assert ">厨房用品</a>" in html


def test_chinese_pages_cost_no_more_queries(
    client, kitchen, kettles, django_assert_max_num_queries
):
    for i in range(30):
        ProductFactory(name=f"Kettle {i}", name_zh_hans=f"水壶{i}", category=kettles)

    # Same limits as the English pages (tests/catalog/test_views.py)
    with django_assert_max_num_queries(7):  # 3 + the recommend strip (with tier exclusives)
        client.get(reverse("browsing:home"), **ZH)
    with django_assert_max_num_queries(6):
        response = client.get(kitchen.get_absolute_url(), {"sort": "price_asc"}, **ZH)

    assert '<span class="product-name">水壶0</span>' in response.content.decode()


def test_preferences_page_lists_categories_in_chinese(client, kitchen):
    user = UserFactory()
    ProfileFactory(user=user)
    client.force_login(user)

    response = client.get(reverse("accounts:preferences"), **ZH)

    html = response.content.decode()
    assert response.status_code == 200
    assert "厨房" in html and "Kitchen" not in html


# --- search -----------------------------------------------------------------------------


def test_search_finds_a_product_by_part_of_its_chinese_name(kettles):
    charger = ProductFactory(name="Power Bank 10000", name_zh_hans="移动充电宝", category=kettles)
    ProductFactory(name="Steel Pan", name_zh_hans="不锈钢炒锅", category=kettles)

    assert list(selectors.product_search("充电")) == [charger]


def test_search_finds_a_product_by_its_chinese_description(kettles):
    quiet = ProductFactory(
        name="Fan", description_zh_hans="静音设计，夜间也能安睡。", category=kettles
    )
    ProductFactory(name="Heater", description_zh_hans="速热取暖。", category=kettles)

    assert list(selectors.product_search("静音")) == [quiet]


def test_search_finds_products_of_a_category_by_its_chinese_name(kettle):
    assert list(selectors.product_search("水壶")) == [kettle]


def test_search_with_chinese_and_english_words_needs_both(kettles):
    steel = ProductFactory(name="Steel Kettle", name_zh_hans="不锈钢电水壶", category=kettles)
    ProductFactory(name="Glass Kettle", name_zh_hans="玻璃电水壶", category=kettles)

    assert list(selectors.product_search("steel 电水壶")) == [steel]


def test_chinese_search_through_the_api(api_client, kettle):
    response = api_client.get("/api/v1/products/", {"q": "不锈钢"}, **ZH)

    assert [p["name"] for p in response.json()["results"]] == ["不锈钢电水壶"]


# --- API ------------------------------------------------------------------------------


def test_api_product_list_in_chinese_gives_localized_and_raw_names(api_client, kettle):
    response = api_client.get("/api/v1/products/", **ZH)

    row = response.json()["results"][0]
    assert (row["name"], row["name_en"], row["name_zh_hans"]) == (
        "不锈钢电水壶",
        "Steel Kettle",
        "不锈钢电水壶",
    )
    assert row["category"]["name"] == "水壶"
    assert row["category"]["name_en"] == "Kettles"


def test_api_product_list_in_english_gives_english_names_and_the_chinese_raw(api_client, kettle):
    response = api_client.get("/api/v1/products/", **EN)

    row = response.json()["results"][0]
    assert (row["name"], row["name_en"], row["name_zh_hans"]) == (
        "Steel Kettle",
        "Steel Kettle",
        "不锈钢电水壶",
    )
    assert row["category"]["name"] == "Kettles"


def test_api_product_detail_localizes_the_description_with_english_fallback(api_client, kettles):
    described = ProductFactory(description="Boils.", description_zh_hans="烧水。", category=kettles)
    english_only = ProductFactory(description="Pours.", category=kettles)

    zh = api_client.get(f"/api/v1/products/{described.pk}/", **ZH).json()
    fallback = api_client.get(f"/api/v1/products/{english_only.pk}/", **ZH).json()

    assert (zh["description"], zh["description_en"], zh["description_zh_hans"]) == (
        "烧水。",
        "Boils.",
        "烧水。",
    )
    assert (fallback["description"], fallback["description_zh_hans"]) == ("Pours.", "")
    assert fallback["name"] == english_only.name  # no Chinese name either


def test_api_categories_in_chinese(api_client, kitchen, kettles):
    CategoryFactory(name="Garden", slug="garden")  # no Chinese name

    rows = api_client.get("/api/v1/categories/", **ZH).json()

    by_slug = {row["slug"]: row for row in rows}
    assert by_slug["kitchen"]["name"] == "厨房"
    assert by_slug["kitchen"]["name_en"] == "Kitchen"
    assert by_slug["kettles"]["name_zh_hans"] == "水壶"
    assert by_slug["garden"]["name"] == "Garden"
    assert by_slug["garden"]["name_zh_hans"] == ""


def test_api_list_in_chinese_costs_no_more_queries(
    api_client, kitchen, kettles, django_assert_max_num_queries
):
    for i in range(30):
        ProductFactory(name=f"Kettle {i}", name_zh_hans=f"水壶{i}", category=kettles)

    with django_assert_max_num_queries(4):  # as in English (test_api.py)
        response = api_client.get(
            "/api/v1/products/", {"category": "kitchen", "page_size": 30}, **ZH
        )

    assert all(row["name"].startswith("水壶") for row in response.json()["results"])


# --- admin ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    admin_user = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    return client


def test_admin_product_form_has_a_chinese_section(staff_client, kettle):
    response = staff_client.get(reverse("admin:catalog_product_change", args=[kettle.pk]))

    html = response.content.decode()
    assert "Chinese (简体中文)" in html
    assert 'name="name_zh_hans"' in html and 'name="description_zh_hans"' in html


def test_admin_edits_the_chinese_name_of_a_category(staff_client, kitchen):
    response = staff_client.post(
        reverse("admin:catalog_category_change", args=[kitchen.pk]),
        {
            "name": "Kitchen",
            "name_zh_hans": "厨房好物",
            "slug": "kitchen",
            "parent": "",
            "description": "",
            "position": "0",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    kitchen.refresh_from_db()
    assert kitchen.name_zh_hans == "厨房好物"


def test_admin_product_search_finds_the_chinese_name(staff_client, kettle):
    ProductFactory(name="Pan", name_zh_hans="炒锅")

    response = staff_client.get(reverse("admin:catalog_product_changelist"), {"q": "电水壶"})

    assert [p.pk for p in response.context["cl"].result_list] == [kettle.pk]
