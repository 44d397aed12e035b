"""Admin of the behaviour log (read-only) and of favourites."""

import pytest
from django.urls import reverse

from browsing import services
from browsing.models import Event
from tests.factories import MemberFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))
    return client


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def test_event_changelist_loads_and_offers_no_add(staff_client):
    services.event_record(user=MemberFactory(), event_type="search", query="kettle")

    response = staff_client.get(reverse("admin:browsing_event_changelist"))

    assert response.status_code == 200
    assert response.context["has_add_permission"] is False
    assert 'href="/admin/browsing/event/add/"' not in response.content.decode()


def test_event_changelist_searches_member_email_query_and_sku(staff_client):
    alice = MemberFactory(email="alice@example.com")
    kettle = ProductFactory(sku="KET-1")
    by_email = services.event_record(user=alice, event_type="search", query="pan")
    by_sku = services.event_record(user=MemberFactory(), event_type="view", product_id=kettle.pk)
    by_query = services.event_record(user=MemberFactory(), event_type="search", query="teapot")
    url = reverse("admin:browsing_event_changelist")

    assert listed(staff_client.get(url, {"q": "alice@"})) == [by_email]
    assert listed(staff_client.get(url, {"q": "KET-1"})) == [by_sku]
    assert listed(staff_client.get(url, {"q": "teapot"})) == [by_query]


def test_event_changelist_filters_by_type_and_source(staff_client):
    member = MemberFactory()
    services.event_record(user=member, event_type="search", query="x")
    api_view = services.event_record(
        user=member, event_type="view", product_id=ProductFactory().pk, source="api"
    )
    url = reverse("admin:browsing_event_changelist")

    assert listed(staff_client.get(url, {"event_type__exact": "view", "source__exact": "api"})) == [
        api_view
    ]


def test_event_detail_is_read_only(staff_client):
    event = services.event_record(user=MemberFactory(), event_type="search", query="kettle")
    url = reverse("admin:browsing_event_change", args=[event.pk])

    page = staff_client.get(url)
    staff_client.post(url, {"query": "changed"})

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    event.refresh_from_db()
    assert event.query == "kettle"


def test_events_cannot_be_deleted_in_the_admin(staff_client):
    event = services.event_record(user=MemberFactory(), event_type="search", query="kettle")

    response = staff_client.post(reverse("admin:browsing_event_delete", args=[event.pk]))

    assert response.status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()


def test_event_changelist_query_count_does_not_grow(staff_client, django_assert_max_num_queries):
    member = MemberFactory()
    for product in ProductFactory.create_batch(30):
        services.event_record(user=member, event_type="view", product_id=product.pk)

    with django_assert_max_num_queries(10):
        response = staff_client.get(reverse("admin:browsing_event_changelist"))

    assert response.status_code == 200


def test_favorite_changelist_lists_and_searches(staff_client):
    alice = MemberFactory(email="alice@example.com")
    services.favorite_add(user=alice, product_id=ProductFactory(sku="KET-1").pk)
    services.favorite_add(user=MemberFactory(), product_id=ProductFactory(sku="PAN-1").pk)

    response = staff_client.get(reverse("admin:browsing_favorite_changelist"), {"q": "KET-1"})

    assert response.status_code == 200
    assert [f.user for f in listed(response)] == [alice]
