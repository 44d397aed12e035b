"""API: me/history/views/, me/history/searches/ and me/favorites/."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from browsing import services
from browsing.models import Event, Favorite
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

VIEWS = "/api/v1/me/history/views/"
SEARCHES = "/api/v1/me/history/searches/"
FAVORITES = "/api/v1/me/favorites/"


def view(user, product, *, ago=timedelta(0), quantity=1):
    return Event.objects.create(
        user=user,
        event_type=Event.Type.VIEW,
        product=product,
        quantity=quantity,
        occurred_at=timezone.now() - ago,
    )


def search(user, query, *, ago=timedelta(0), count=3):
    return Event.objects.create(
        user=user,
        event_type=Event.Type.SEARCH,
        query=query,
        value=Decimal(count),
        occurred_at=timezone.now() - ago,
    )


# --- footprints ------------------------------------------------------------------------


def test_footprints_list_each_product_once_latest_first(member_api, member):
    kettle, pan = ProductFactory(name="Kettle", price=Decimal("12.50")), ProductFactory(name="Pan")
    view(member, kettle, ago=timedelta(hours=3))
    view(member, pan, ago=timedelta(hours=2))
    view(member, kettle, ago=timedelta(hours=1), quantity=4)

    response = member_api.get(VIEWS)

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 2
    assert [r["product"]["name"] for r in body["results"]] == ["Kettle", "Pan"]
    assert body["results"][0]["views"] == 5
    assert body["results"][0]["product"]["price"] == "12.50"
    assert body["results"][0]["viewed_at"]


def test_footprints_show_only_the_members_own_visible_views(member_api, member, other_member):
    view(member, ProductFactory(name="Mine"))
    hidden = view(member, ProductFactory(name="Hidden"))
    Event.objects.filter(pk=hidden.pk).update(is_hidden=True)
    view(other_member, ProductFactory(name="Theirs"))

    body = member_api.get(VIEWS).json()

    assert [r["product"]["name"] for r in body["results"]] == ["Mine"]


def test_footprints_are_paginated(member_api, member):
    for i in range(25):
        view(member, ProductFactory(), ago=timedelta(minutes=i))

    first = member_api.get(VIEWS).json()
    second = member_api.get(VIEWS, {"page": 2}).json()

    assert first["count"] == 25 and len(first["results"]) == 20
    assert len(second["results"]) == 5


@pytest.mark.parametrize("url", [VIEWS, SEARCHES, FAVORITES])
def test_a_page_past_the_end_is_a_json_404(member_api, url):
    response = member_api.get(url, {"page": 99})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("url", [VIEWS, SEARCHES, FAVORITES])
@pytest.mark.parametrize("page_size", ["abc", "-1", "0"])
def test_a_bad_page_size_is_not_an_error(member_api, url, page_size):
    assert member_api.get(url, {"page_size": page_size}).status_code == 200


def test_clear_footprints_hides_only_the_members_views(member_api, member, other_member):
    product = ProductFactory()
    view(member, product)
    searched = search(member, "kettle")
    theirs = view(other_member, product)

    response = member_api.delete(VIEWS)

    assert response.status_code == 204
    assert member_api.get(VIEWS).json()["count"] == 0
    assert Event.objects.filter(user=member, event_type="view", is_hidden=True).count() == 1
    searched.refresh_from_db()
    theirs.refresh_from_db()
    assert searched.is_hidden is False and theirs.is_hidden is False


def test_remove_one_footprint(member_api, member):
    kettle, pan = ProductFactory(name="Kettle"), ProductFactory(name="Pan")
    view(member, kettle)
    view(member, pan)

    response = member_api.delete(f"{VIEWS}{kettle.pk}/")

    assert response.status_code == 204
    assert [r["product"]["name"] for r in member_api.get(VIEWS).json()["results"]] == ["Pan"]
    assert Event.objects.filter(product=kettle).exists()  # hidden, not deleted


def test_removing_another_members_footprint_is_404_and_touches_nothing(member_api, other_member):
    product = ProductFactory()
    theirs = view(other_member, product)

    response = member_api.delete(f"{VIEWS}{product.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.is_hidden is False


@pytest.mark.parametrize("product_id", ["987654", "99999999999999999999"])
def test_removing_an_unknown_product_from_footprints_is_404(member_api, product_id):
    assert member_api.delete(f"{VIEWS}{product_id}/").status_code == 404


def test_removing_a_footprint_twice_is_404_the_second_time(member_api, member):
    product = ProductFactory()
    view(member, product)

    assert member_api.delete(f"{VIEWS}{product.pk}/").status_code == 204
    assert member_api.delete(f"{VIEWS}{product.pk}/").status_code == 404


@pytest.mark.parametrize("count", [1, 20])
def test_footprints_query_count_does_not_grow(
    member_api, member, count, django_assert_max_num_queries
):
    for i, product in enumerate(ProductFactory.create_batch(count)):
        view(member, product, ago=timedelta(minutes=i))

    # token and member, count, one page of footprints, their products
    with django_assert_max_num_queries(4):
        response = member_api.get(VIEWS)

    assert len(response.json()["results"]) == count


# --- search history --------------------------------------------------------------------


def test_search_history_lists_distinct_queries_with_latest_counts(member_api, member):
    search(member, "kettle", ago=timedelta(hours=3), count=9)
    search(member, "pan", ago=timedelta(hours=2), count=0)
    search(member, "kettle", ago=timedelta(hours=1), count=4)

    body = member_api.get(SEARCHES).json()

    rows = [(r["query"], r["result_count"]) for r in body["results"]]
    assert rows == [("kettle", 4), ("pan", 0)]
    assert body["results"][0]["searched_at"]


def test_search_history_shows_only_the_members_own(member_api, member, other_member):
    search(member, "mine")
    search(other_member, "theirs")

    body = member_api.get(SEARCHES).json()

    assert [r["query"] for r in body["results"]] == ["mine"]


def test_clear_search_history_hides_only_the_members_searches(member_api, member, other_member):
    search(member, "kettle")
    theirs = search(other_member, "kettle")

    response = member_api.delete(SEARCHES)

    assert response.status_code == 204
    assert member_api.get(SEARCHES).json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.is_hidden is False


@pytest.mark.parametrize("count", [1, 20])
def test_search_history_query_count_does_not_grow(
    member_api, member, count, django_assert_max_num_queries
):
    for i in range(count):
        search(member, f"query {i}", ago=timedelta(minutes=i))

    # token and member, count, one page of searches, their latest result counts
    with django_assert_max_num_queries(4):
        response = member_api.get(SEARCHES)

    assert len(response.json()["results"]) == count


# --- favourites --------------------------------------------------------------------------


def test_add_favourite_is_201_then_200(member_api, member):
    product = ProductFactory(name="Kettle")

    first = member_api.post(FAVORITES, {"product": product.pk}, format="json")
    second = member_api.post(FAVORITES, {"product": product.pk}, format="json")

    assert first.status_code == 201
    assert first.json()["product"]["name"] == "Kettle"
    assert second.status_code == 200
    assert Favorite.objects.filter(user=member).count() == 1
    assert Event.objects.filter(user=member, event_type="favorite", source="api").count() == 1


@pytest.mark.parametrize(
    "body", [{}, {"product": "abc"}, {"product": -1}, {"product": 0}, {"product": None}]
)
def test_add_favourite_with_a_bad_product_is_400(member_api, body):
    response = member_api.post(FAVORITES, body, format="json")

    assert response.status_code == 400
    assert "product" in response.json()["detail"]


@pytest.mark.parametrize("product_id", [987654, 2**62])
def test_add_favourite_of_an_unknown_product_is_404(member_api, product_id):
    response = member_api.post(FAVORITES, {"product": product_id}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "product_not_found"


def test_add_favourite_of_an_inactive_product_is_404(member_api):
    product = ProductFactory(is_active=False)

    response = member_api.post(FAVORITES, {"product": product.pk}, format="json")

    assert response.status_code == 404


def test_favourites_list_only_the_members_own_newest_first(member_api, member, other_member):
    older, newer, theirs = (ProductFactory(name=n) for n in ("Older", "Newer", "Theirs"))
    services.favorite_add(user=member, product_id=older.pk)
    services.favorite_add(user=member, product_id=newer.pk)
    services.favorite_add(user=other_member, product_id=theirs.pk)

    body = member_api.get(FAVORITES).json()

    assert [r["product"]["name"] for r in body["results"]] == ["Newer", "Older"]
    assert body["results"][0]["saved_at"]


def test_remove_favourite_is_204_then_404(member_api, member):
    product = ProductFactory()
    services.favorite_add(user=member, product_id=product.pk)

    assert member_api.delete(f"{FAVORITES}{product.pk}/").status_code == 204
    assert member_api.delete(f"{FAVORITES}{product.pk}/").status_code == 404
    assert list(
        Event.objects.filter(user=member).order_by("id").values_list("event_type", flat=True)
    ) == ["favorite", "unfavorite"]


def test_removing_another_members_favourite_is_404_and_keeps_it(member_api, other_member):
    product = ProductFactory()
    services.favorite_add(user=other_member, product_id=product.pk)

    response = member_api.delete(f"{FAVORITES}{product.pk}/")

    assert response.status_code == 404
    assert Favorite.objects.filter(user=other_member, product=product).exists()


@pytest.mark.parametrize("count", [1, 20])
def test_favourites_query_count_does_not_grow(
    member_api, member, count, django_assert_max_num_queries
):
    for product in ProductFactory.create_batch(count):
        services.favorite_add(user=member, product_id=product.pk)

    # token and member, count, one page of favourites with products, categories, brands
    with django_assert_max_num_queries(3):
        response = member_api.get(FAVORITES)

    assert len(response.json()["results"]) == count


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", VIEWS),
        ("delete", VIEWS),
        ("delete", f"{VIEWS}1/"),
        ("get", SEARCHES),
        ("delete", SEARCHES),
        ("get", FAVORITES),
        ("post", FAVORITES),
        ("delete", f"{FAVORITES}1/"),
    ],
)
def test_anonymous_client_gets_401(api_client, method, url):
    response = getattr(api_client, method)(url)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("method", "url"), [("post", VIEWS), ("put", SEARCHES), ("patch", FAVORITES)]
)
def test_other_methods_are_405(member_api, method, url):
    assert getattr(member_api, method)(url).status_code == 405
