"""The member's footprints (recently viewed) and search history pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from browsing import services
from browsing.models import Event
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


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


def viewed_names(response) -> list[str]:
    return [item.product.name for item in response.context["viewed"]]


# --- footprints ------------------------------------------------------------------------


def test_footprints_list_each_product_once_latest_view_first(member_client, member):
    kettle, pan, wok = (ProductFactory(name=n) for n in ("Kettle", "Pan", "Wok"))
    view(member, kettle, ago=timedelta(hours=5))
    view(member, pan, ago=timedelta(hours=3))
    view(member, kettle, ago=timedelta(hours=1), quantity=2)
    view(member, wok, ago=timedelta(hours=2))

    response = member_client.get(reverse("browsing:history_views"))

    assert response.status_code == 200
    assert viewed_names(response) == ["Kettle", "Wok", "Pan"]
    assert response.context["viewed"][0].views == 3
    assert response.context["active_menu"] == "footprints"


def test_footprints_are_grouped_by_day(member_client, member):
    view(member, ProductFactory(name="Today"))
    view(member, ProductFactory(name="Last week"), ago=timedelta(days=7))

    response = member_client.get(reverse("browsing:history_views"))

    html = response.content.decode()
    assert html.count('class="history-day"') == 2
    days = [item.day for item in response.context["viewed"]]
    assert days[0] - days[1] == timedelta(days=7)


def test_footprints_leave_out_hidden_views_other_events_and_inactive_products(
    member_client, member
):
    shown = ProductFactory(name="Shown")
    view(member, shown)
    hidden = view(member, ProductFactory(name="Hidden"))
    Event.objects.filter(pk=hidden.pk).update(is_hidden=True)
    view(member, ProductFactory(name="Withdrawn", is_active=False))
    services.event_record(user=member, event_type="cart_add", product_id=ProductFactory().pk)

    response = member_client.get(reverse("browsing:history_views"))

    assert viewed_names(response) == ["Shown"]


def test_footprints_show_only_the_members_own_views(member_client, member, other_member):
    view(member, ProductFactory(name="Mine"))
    view(other_member, ProductFactory(name="Theirs"))

    response = member_client.get(reverse("browsing:history_views"))

    assert viewed_names(response) == ["Mine"]


def test_footprints_are_paginated(member_client, member):
    for i in range(35):
        view(member, ProductFactory(), ago=timedelta(minutes=i))

    first = member_client.get(reverse("browsing:history_views"))
    second = member_client.get(reverse("browsing:history_views"), {"page": "2"})

    assert len(first.context["viewed"]) == 30
    assert len(second.context["viewed"]) == 5


@pytest.mark.parametrize("page", ["abc", "-1", "999", "%00"])
def test_footprints_bad_page_number_is_not_an_error(member_client, member, page):
    view(member, ProductFactory())

    response = member_client.get(f"{reverse('browsing:history_views')}?page={page}")

    assert response.status_code == 200


def test_footprints_page_says_removal_only_hides(member_client, member):
    view(member, ProductFactory())

    html = member_client.get(reverse("browsing:history_views")).content.decode()

    assert "only hides them from this list" in html


def test_empty_footprints_say_so(member_client):
    html = member_client.get(reverse("browsing:history_views")).content.decode()

    assert "You have not viewed any products yet." in html


def test_remove_one_hides_that_products_views_only(member_client, member):
    kettle, pan = ProductFactory(name="Kettle"), ProductFactory(name="Pan")
    view(member, kettle, ago=timedelta(hours=2))
    view(member, kettle)
    view(member, pan)

    response = member_client.post(reverse("browsing:history_views_remove", args=[kettle.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("browsing:history_views")
    assert Event.objects.filter(product=kettle, is_hidden=True).count() == 2
    assert Event.objects.filter(product=kettle).count() == 2  # hidden, not deleted
    assert viewed_names(member_client.get(reverse("browsing:history_views"))) == ["Pan"]


def test_remove_one_does_not_touch_another_members_views(member_client, other_member):
    product = ProductFactory()
    theirs = view(other_member, product)

    response = member_client.post(reverse("browsing:history_views_remove", args=[product.pk]))

    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.is_hidden is False


def test_remove_one_of_an_unknown_product_just_returns(member_client):
    response = member_client.post(reverse("browsing:history_views_remove", args=[987654]))

    assert response.status_code == 302


def test_remove_one_returns_to_the_page_it_came_from(member_client, member):
    product = ProductFactory()
    view(member, product)
    page = reverse("browsing:history_views") + "?page=2"

    response = member_client.post(
        reverse("browsing:history_views_remove", args=[product.pk]), {"next": page}
    )

    assert response["Location"] == page


def test_clear_all_hides_only_the_members_views(member_client, member, other_member):
    product = ProductFactory()
    view(member, product)
    view(member, ProductFactory())
    searched = search(member, "kettle")
    theirs = view(other_member, product)

    response = member_client.post(reverse("browsing:history_views_clear"))

    assert response.status_code == 302
    assert not Event.objects.filter(user=member, event_type="view", is_hidden=False).exists()
    assert Event.objects.filter(user=member, event_type="view").count() == 2
    searched.refresh_from_db()
    theirs.refresh_from_db()
    assert searched.is_hidden is False and theirs.is_hidden is False


@pytest.mark.parametrize(
    "name", ["browsing:history_views_clear", "browsing:history_searches_clear"]
)
def test_clearing_needs_post(member_client, name):
    assert member_client.get(reverse(name)).status_code == 405


def test_remove_one_needs_post(member_client, member):
    product = ProductFactory()
    view(member, product)

    response = member_client.get(reverse("browsing:history_views_remove", args=[product.pk]))

    assert response.status_code == 405
    assert not Event.objects.filter(is_hidden=True).exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", reverse("browsing:history_views")),
        ("post", reverse("browsing:history_views_clear")),
        ("post", reverse("browsing:history_views_remove", args=[1])),
        ("get", reverse("browsing:history_searches")),
        ("post", reverse("browsing:history_searches_clear")),
    ],
)
def test_history_pages_need_login(client, method, url):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("count", [1, 20])
def test_footprints_page_query_count_does_not_grow(
    member_client, member, count, django_assert_max_num_queries
):
    for i, product in enumerate(ProductFactory.create_batch(count)):
        view(member, product, ago=timedelta(hours=i))
    member_client.get(reverse("browsing:history_views"))  # warms the category tree cache

    # session, member, cart badge, count, one page of footprints, their products
    with django_assert_max_num_queries(6):
        response = member_client.get(reverse("browsing:history_views"))

    assert len(response.context["viewed"]) == count


# --- search history --------------------------------------------------------------------


def test_search_history_lists_distinct_queries_latest_first_with_counts(member_client, member):
    search(member, "kettle", ago=timedelta(hours=3), count=7)
    search(member, "pan", ago=timedelta(hours=2), count=0)
    search(member, "kettle", ago=timedelta(hours=1), count=5)

    response = member_client.get(reverse("browsing:history_searches"))

    rows = [(s.query, s.result_count) for s in response.context["searches"]]
    assert rows == [("kettle", 5), ("pan", 0)]
    assert response.context["active_menu"] == "searches"


def test_search_history_links_to_search_again(member_client, member):
    search(member, "steel kettle")

    html = member_client.get(reverse("browsing:history_searches")).content.decode()

    assert 'href="/search/?q=steel%20kettle"' in html


def test_search_history_shows_only_the_members_own(member_client, member, other_member):
    search(member, "mine")
    search(other_member, "theirs")

    response = member_client.get(reverse("browsing:history_searches"))

    assert [s.query for s in response.context["searches"]] == ["mine"]


def test_clear_search_history_hides_only_the_members_searches(member_client, member, other_member):
    search(member, "kettle")
    viewed = view(member, ProductFactory())
    theirs = search(other_member, "kettle")

    response = member_client.post(reverse("browsing:history_searches_clear"))

    assert response.status_code == 302
    assert member_client.get(reverse("browsing:history_searches")).context["searches"] == []
    assert Event.objects.filter(user=member, event_type="search", is_hidden=True).count() == 1
    viewed.refresh_from_db()
    theirs.refresh_from_db()
    assert viewed.is_hidden is False and theirs.is_hidden is False


def test_empty_search_history_says_so(member_client):
    html = member_client.get(reverse("browsing:history_searches")).content.decode()

    assert "You have no searches yet." in html


@pytest.mark.parametrize("count", [1, 20])
def test_search_history_query_count_does_not_grow(
    member_client, member, count, django_assert_max_num_queries
):
    for i in range(count):
        search(member, f"query {i}", ago=timedelta(minutes=i))
        search(member, f"query {i}", ago=timedelta(days=1, minutes=i))
    member_client.get(reverse("browsing:history_searches"))  # warms the category tree cache

    # session, member, cart badge, count, one page of searches, their latest result counts
    with django_assert_max_num_queries(6):
        response = member_client.get(reverse("browsing:history_searches"))

    assert len(response.context["searches"]) == count


def test_remove_one_with_an_id_beyond_64_bits_is_not_an_error(member_client):
    response = member_client.post(reverse("browsing:history_views_remove", args=[10**20]))

    assert response.status_code == 302
