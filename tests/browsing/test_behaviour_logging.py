"""The storefront writes the behaviour log: product views (footprints), searches and
the product clicked from a search, anonymous events attached at login."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from browsing import services
from browsing.models import Event
from tests.browsing.conftest import PASSWORD
from tests.factories import MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Plum-orchard-lantern-42"


def views_of(product, **actor):
    return list(Event.objects.filter(event_type=Event.Type.VIEW, product=product, **actor))


def searches(**actor):
    return list(Event.objects.filter(event_type=Event.Type.SEARCH, **actor).order_by("id"))


def age_all_events(seconds: int) -> None:
    """Move every event ``seconds`` into the past (as if time had passed)."""
    for event in Event.objects.all():
        Event.objects.filter(pk=event.pk).update(
            occurred_at=event.occurred_at - timedelta(seconds=seconds)
        )


# --- product views ------------------------------------------------------------------


def test_member_product_view_is_logged_once(member_client, member):
    product = ProductFactory()

    member_client.get(product.get_absolute_url())

    [view] = views_of(product)
    assert view.user == member
    assert view.quantity == 1
    assert view.source == Event.Source.WEB


def test_repeated_views_within_the_window_collapse_into_one_row(member_client, member):
    product = ProductFactory()
    member_client.get(product.get_absolute_url())
    first_time = views_of(product)[0].occurred_at

    member_client.get(product.get_absolute_url())
    member_client.get(product.get_absolute_url())

    [view] = views_of(product)
    assert view.quantity == 3
    assert view.occurred_at >= first_time


def test_a_view_after_the_window_is_a_new_row(member_client, settings):
    product = ProductFactory()
    member_client.get(product.get_absolute_url())
    age_all_events(settings.VIEW_COLLAPSE_SECONDS + 1)

    member_client.get(product.get_absolute_url())

    assert sorted(v.quantity for v in views_of(product)) == [1, 1]


def test_views_of_different_products_are_separate_rows(member_client):
    first, second = ProductFactory(), ProductFactory()

    member_client.get(first.get_absolute_url())
    member_client.get(second.get_absolute_url())

    assert len(views_of(first)) == len(views_of(second)) == 1


def test_views_of_two_members_do_not_collapse_into_each_other(client):
    product = ProductFactory()
    alice, bob = MemberFactory(), MemberFactory()
    client.force_login(alice)
    client.get(product.get_absolute_url())
    client.force_login(bob)

    client.get(product.get_absolute_url())

    assert {v.user_id for v in views_of(product)} == {alice.pk, bob.pk}


def test_anonymous_view_is_logged_with_the_visitor_key(client):
    product = ProductFactory()

    client.get(product.get_absolute_url())

    [view] = views_of(product)
    assert view.user is None
    assert view.session_key == client.session[services.VISITOR_SESSION_KEY]


def test_a_view_after_hiding_the_footprint_is_a_new_visible_row(member_client, member):
    product = ProductFactory()
    member_client.get(product.get_absolute_url())
    services.history_views_hide(user=member, product_id=product.pk)

    member_client.get(product.get_absolute_url())

    assert sorted(v.is_hidden for v in views_of(product)) == [False, True]


def test_head_request_is_not_logged(client):
    product = ProductFactory()

    response = client.head(product.get_absolute_url())

    assert response.status_code == 200
    assert views_of(product) == []


def test_inactive_product_is_404_and_not_logged(client):
    product = ProductFactory(is_active=False)

    response = client.get(product.get_absolute_url())

    assert response.status_code == 404
    assert Event.objects.count() == 0


def test_redirect_to_the_canonical_url_is_not_logged(client):
    product = ProductFactory(slug="kettle")

    client.get(f"/p/{product.pk}/old-name/")

    assert views_of(product) == []


def test_staff_preview_from_the_admin_is_not_logged(client):
    staff = MemberFactory(is_staff=True)
    client.force_login(staff)
    product = ProductFactory()

    client.get(product.get_absolute_url(), HTTP_REFERER="http://testserver/admin/catalog/")

    assert views_of(product) == []


def test_staff_browsing_the_shop_is_logged(client):
    staff = MemberFactory(is_staff=True)
    client.force_login(staff)
    product = ProductFactory()

    client.get(product.get_absolute_url(), HTTP_REFERER="http://testserver/search/?q=x")

    assert len(views_of(product, user=staff)) == 1


def test_product_view_record_without_an_actor_writes_nothing():
    product = ProductFactory()

    assert services.product_view_record(product_id=product.pk) is False
    assert Event.objects.count() == 0


def test_member_product_page_costs_a_fixed_number_of_queries(
    member_client, django_assert_max_num_queries
):
    product = ProductFactory()
    ProductFactory.create_batch(10, category=product.category)
    member_client.get(product.get_absolute_url())  # warms the category tree cache

    # session, member, cart badge, product, view UPDATE, favourite state, same category,
    # + recommend's strips (newest products without a model, the member's negative
    # reviews, served-lists INSERT); the products the member's tier may not see come from
    # membership's cache
    with django_assert_max_num_queries(11):
        response = member_client.get(product.get_absolute_url())

    assert response.status_code == 200


# --- anonymous behaviour attached at login --------------------------------------------


def test_anonymous_views_and_searches_become_the_members_at_login(client):
    member = MemberFactory(email="carol@example.com")
    product = ProductFactory(name="Steel kettle")
    client.get(product.get_absolute_url())
    client.get(reverse("browsing:search"), {"q": "kettle"})

    response = client.post(
        reverse("accounts:login"), {"username": "carol@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert Event.objects.filter(user__isnull=True).count() == 0
    assert {e.event_type for e in Event.objects.filter(user=member)} == {"view", "search"}


def test_view_after_login_collapses_into_the_attached_anonymous_view(client):
    MemberFactory(email="carol@example.com")
    product = ProductFactory()
    client.get(product.get_absolute_url())
    client.post(reverse("accounts:login"), {"username": "carol@example.com", "password": PASSWORD})

    client.get(product.get_absolute_url())

    [view] = views_of(product)
    assert view.quantity == 2


def test_registration_attaches_the_visitors_events_to_the_new_member(
    client, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    client.get(product.get_absolute_url())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:register"),
            {
                "email": "new@example.com",
                "password1": STRONG_PASSWORD,
                "password2": STRONG_PASSWORD,
            },
        )

    assert response.status_code == 302
    [view] = views_of(product)
    assert view.user.email == "new@example.com"


def test_login_does_not_take_other_visitors_events(client):
    MemberFactory(email="carol@example.com")
    product = ProductFactory()
    services.event_record(visitor="someone-else", event_type="view", product_id=product.pk)
    client.get(product.get_absolute_url())

    client.post(reverse("accounts:login"), {"username": "carol@example.com", "password": PASSWORD})

    assert Event.objects.get(session_key="someone-else").user is None


def test_failed_login_attaches_nothing(client):
    MemberFactory(email="carol@example.com")
    product = ProductFactory()
    client.get(product.get_absolute_url())

    client.post(reverse("accounts:login"), {"username": "carol@example.com", "password": "nope"})

    assert views_of(product)[0].user is None


# --- searches ------------------------------------------------------------------------


def test_search_is_logged_with_query_and_result_count(member_client, member):
    ProductFactory(name="Steel kettle")
    ProductFactory(name="Glass kettle")

    member_client.get(reverse("browsing:search"), {"q": "  kettle  "})

    [search] = searches(user=member)
    assert search.query == "kettle"
    assert search.value == Decimal("2")
    assert search.product is None


def test_search_without_results_is_logged_with_zero(member_client, member):
    member_client.get(reverse("browsing:search"), {"q": "submarine"})

    assert searches(user=member)[0].value == Decimal("0")


def test_empty_search_is_not_logged(member_client):
    member_client.get(reverse("browsing:search"), {"q": "   "})

    assert Event.objects.count() == 0


def test_second_results_page_is_not_logged_again(member_client, member):
    ProductFactory.create_batch(30, name="Kettle")
    member_client.get(reverse("browsing:search"), {"q": "kettle"})
    age_all_events(3600)

    member_client.get(reverse("browsing:search"), {"q": "kettle", "page": "2"})

    assert len(searches(user=member)) == 1


def test_filter_change_of_the_same_query_updates_the_search_row(member_client, member):
    ProductFactory(name="Cheap kettle", price=Decimal("10"))
    ProductFactory(name="Dear kettle", price=Decimal("90"))
    member_client.get(reverse("browsing:search"), {"q": "kettle"})

    member_client.get(reverse("browsing:search"), {"q": "kettle", "max_price": "50"})

    [search] = searches(user=member)
    assert search.value == Decimal("1")


def test_same_query_after_the_window_is_a_new_search(member_client, member, settings):
    member_client.get(reverse("browsing:search"), {"q": "kettle"})
    age_all_events(settings.VIEW_COLLAPSE_SECONDS + 1)

    member_client.get(reverse("browsing:search"), {"q": "kettle"})

    assert len(searches(user=member)) == 2


def test_result_links_carry_the_search_event_id(member_client, member):
    product = ProductFactory(name="Steel kettle")

    response = member_client.get(reverse("browsing:search"), {"q": "kettle"})

    search = searches(user=member)[0]
    assert f'href="{product.get_absolute_url()}?sr={search.pk}"' in response.content.decode()


def test_clicking_a_result_records_the_product_on_the_search(member_client, member):
    product = ProductFactory(name="Steel kettle")
    response = member_client.get(reverse("browsing:search"), {"q": "kettle"})
    search_ref = response.context["search_ref"]

    member_client.get(product.get_absolute_url(), {"sr": search_ref})

    assert searches(user=member)[0].product == product
    assert len(views_of(product, user=member)) == 1


def test_anonymous_click_is_recorded_on_the_visitors_search(client):
    product = ProductFactory(name="Steel kettle")
    search_ref = client.get(reverse("browsing:search"), {"q": "kettle"}).context["search_ref"]

    client.get(product.get_absolute_url(), {"sr": search_ref})

    assert Event.objects.get(pk=search_ref).product == product


def test_only_the_first_click_is_recorded(member_client, member):
    first, second = ProductFactory(name="Steel kettle"), ProductFactory(name="Glass kettle")
    search_ref = member_client.get(reverse("browsing:search"), {"q": "kettle"}).context[
        "search_ref"
    ]

    member_client.get(first.get_absolute_url(), {"sr": search_ref})
    member_client.get(second.get_absolute_url(), {"sr": search_ref})

    assert Event.objects.get(pk=search_ref).product == first


def test_click_through_the_canonical_redirect_keeps_the_search_ref(member_client, member):
    product = ProductFactory(name="Steel kettle", slug="steel-kettle")
    search_ref = member_client.get(reverse("browsing:search"), {"q": "kettle"}).context[
        "search_ref"
    ]

    response = member_client.get(f"/p/{product.pk}/", {"sr": search_ref}, follow=True)

    assert response.status_code == 200
    assert Event.objects.get(pk=search_ref).product == product


def test_another_members_search_ref_is_ignored(client):
    product = ProductFactory()
    alice, bob = MemberFactory(), MemberFactory()
    search = services.event_record(user=alice, event_type="search", query="kettle")
    client.force_login(bob)

    response = client.get(product.get_absolute_url(), {"sr": search.pk})

    assert response.status_code == 200
    search.refresh_from_db()
    assert search.product is None


def test_another_visitors_search_ref_is_ignored(client):
    product = ProductFactory()
    search = services.event_record(visitor="someone-else", event_type="search", query="kettle")

    client.get(product.get_absolute_url(), {"sr": search.pk})

    search.refresh_from_db()
    assert search.product is None


def test_a_ref_to_an_event_that_is_not_a_search_is_ignored(member_client, member):
    product, other = ProductFactory(), ProductFactory()
    cart_add = services.event_record(user=member, event_type="cart_add", product_id=other.pk)

    member_client.get(product.get_absolute_url(), {"sr": cart_add.pk})

    cart_add.refresh_from_db()
    assert cart_add.product == other


def test_an_old_search_ref_is_ignored(member_client, member):
    product = ProductFactory()
    search = services.event_record(
        user=member,
        event_type="search",
        query="kettle",
        occurred_at=timezone.now() - services.SEARCH_CLICK_WINDOW - timedelta(minutes=1),
    )

    member_client.get(product.get_absolute_url(), {"sr": search.pk})

    search.refresh_from_db()
    assert search.product is None


@pytest.mark.parametrize(
    "garbage", ["abc", "-1", "0", "1.5", "", "99999999999999999999999", "%00", "1e3", "９"]
)
def test_garbage_search_refs_are_ignored(member_client, member, garbage):
    product = ProductFactory()
    for _ in range(9):  # so that ids such as 9 exist, and one of them is a search
        services.event_record(user=member, event_type="search", query="kettle")

    response = member_client.get(f"{product.get_absolute_url()}?sr={garbage}")

    assert response.status_code == 200
    assert not Event.objects.filter(event_type="search", product__isnull=False).exists()
    assert len(views_of(product, user=member)) == 1


def test_search_query_is_cleaned_before_logging():
    assert services.search_query_clean("  steel\x00   kettle\t") == "steel kettle"
    assert len(services.search_query_clean("a" * 500)) == 200
