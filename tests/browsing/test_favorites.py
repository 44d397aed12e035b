"""Favourites: the product page button, the services and the member's favourites page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from browsing import services
from browsing.models import Event, Favorite
from config.api.errors import NotFound
from tests.factories import MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db


def toggle(client, product, action, **extra):
    return client.post(
        reverse("browsing:favorite_toggle", args=[product.pk]), {"action": action, **extra}
    )


def favorite_events(user):
    return list(
        Event.objects.filter(user=user, event_type__in=["favorite", "unfavorite"])
        .order_by("id")
        .values_list("event_type", flat=True)
    )


# --- services -------------------------------------------------------------------------


def test_favorite_add_saves_and_logs_once(member):
    product = ProductFactory()

    assert services.favorite_add(user=member, product_id=product.pk) is True
    assert services.favorite_add(user=member, product_id=product.pk) is False

    assert Favorite.objects.filter(user=member, product=product).count() == 1
    assert favorite_events(member) == ["favorite"]


def test_favorite_remove_deletes_and_logs_once(member):
    product = ProductFactory()
    services.favorite_add(user=member, product_id=product.pk)

    assert services.favorite_remove(user=member, product_id=product.pk) is True
    assert services.favorite_remove(user=member, product_id=product.pk) is False

    assert not Favorite.objects.filter(user=member).exists()
    assert favorite_events(member) == ["favorite", "unfavorite"]


@pytest.mark.parametrize("product_id", [0, -1, 987654, 2**62])
def test_favorite_add_refuses_unknown_products(member, product_id):
    with pytest.raises(NotFound):
        services.favorite_add(user=member, product_id=product_id)

    assert not Favorite.objects.exists()


def test_favorite_add_refuses_an_inactive_product(member):
    product = ProductFactory(is_active=False)

    with pytest.raises(NotFound):
        services.favorite_add(user=member, product_id=product.pk)


def test_favorite_remove_leaves_other_members_favourites(member, other_member):
    product = ProductFactory()
    services.favorite_add(user=other_member, product_id=product.pk)

    assert services.favorite_remove(user=member, product_id=product.pk) is False

    assert Favorite.objects.filter(user=other_member, product=product).exists()


# --- product page button ----------------------------------------------------------------


def test_product_page_offers_to_save_a_product_not_saved(member_client):
    product = ProductFactory()

    html = member_client.get(product.get_absolute_url()).content.decode()

    assert 'name="action" value="add"' in html
    assert "Save to favourites" in html


def test_product_page_shows_the_saved_state(member_client, member):
    product = ProductFactory()
    services.favorite_add(user=member, product_id=product.pk)

    response = member_client.get(product.get_absolute_url())

    assert response.context["is_favorite"] is True
    html = response.content.decode()
    assert 'name="action" value="remove"' in html
    assert 'aria-pressed="true"' in html


def test_button_saves_and_returns_to_the_product_page(member_client, member):
    product = ProductFactory()

    response = toggle(member_client, product, "add", next=product.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"] == product.get_absolute_url()
    assert Favorite.objects.filter(user=member, product=product).exists()


def test_saving_twice_keeps_one_favourite_and_one_event(member_client, member):
    product = ProductFactory()

    toggle(member_client, product, "add")
    response = toggle(member_client, product, "add")

    assert response.status_code == 302
    assert Favorite.objects.filter(user=member).count() == 1
    assert favorite_events(member) == ["favorite"]


def test_button_removes_idempotently(member_client, member):
    product = ProductFactory()
    toggle(member_client, product, "add")

    toggle(member_client, product, "remove")
    response = toggle(member_client, product, "remove")

    assert response.status_code == 302
    assert not Favorite.objects.filter(user=member).exists()
    assert favorite_events(member) == ["favorite", "unfavorite"]


def test_anonymous_visitor_is_sent_to_login_and_back_to_the_product(client):
    product = ProductFactory()

    response = toggle(client, product, "add")

    assert response.status_code == 302
    login = reverse("accounts:login")
    assert response["Location"].startswith(login)
    assert f"/p/{product.pk}/" in response["Location"]
    assert not Favorite.objects.exists()


def test_favourite_button_needs_post(member_client):
    product = ProductFactory()

    response = member_client.get(reverse("browsing:favorite_toggle", args=[product.pk]))

    assert response.status_code == 405


@pytest.mark.parametrize("data", [{}, {"action": "explode"}, {"action": ""}])
def test_favourite_button_refuses_a_bad_action(member_client, data):
    product = ProductFactory()

    response = member_client.post(reverse("browsing:favorite_toggle", args=[product.pk]), data)

    assert response.status_code == 400
    assert not Favorite.objects.exists()


def test_saving_an_unknown_or_inactive_product_is_404(member_client):
    inactive = ProductFactory(is_active=False)

    assert toggle(member_client, inactive, "add").status_code == 404
    assert (
        member_client.post(
            reverse("browsing:favorite_toggle", args=[987654]), {"action": "add"}
        ).status_code
        == 404
    )


def test_button_ignores_an_off_site_next(member_client):
    product = ProductFactory()

    response = toggle(member_client, product, "add", next="https://evil.example/")

    assert response["Location"] == f"/p/{product.pk}/"


# --- favourites page --------------------------------------------------------------------


def test_favourites_page_lists_saved_products_newest_first(member_client, member):
    older, newer = ProductFactory(name="Older"), ProductFactory(name="Newer")
    services.favorite_add(user=member, product_id=older.pk)
    services.favorite_add(user=member, product_id=newer.pk)

    response = member_client.get(reverse("browsing:favorites"))

    assert response.status_code == 200
    assert [f.product.name for f in response.context["favorites"]] == ["Newer", "Older"]
    assert response.context["active_menu"] == "favorites"


def test_favourites_page_shows_out_of_stock_and_withdrawn_products(member_client, member):
    sold_out = ProductFactory(name="Sold out", stock=0)
    withdrawn = ProductFactory(name="Withdrawn")
    services.favorite_add(user=member, product_id=sold_out.pk)
    services.favorite_add(user=member, product_id=withdrawn.pk)
    withdrawn.is_active = False
    withdrawn.save()

    html = member_client.get(reverse("browsing:favorites")).content.decode()

    assert "Out of stock" in html
    assert "No longer available" in html


def test_favourites_page_remove_button_returns_to_the_page(member_client, member):
    product = ProductFactory()
    services.favorite_add(user=member, product_id=product.pk)
    page = reverse("browsing:favorites")

    response = toggle(member_client, product, "remove", next=page)

    assert response["Location"] == page
    assert not Favorite.objects.filter(user=member).exists()


def test_favourites_page_shows_only_the_members_own(member_client, member, other_member):
    mine, theirs = ProductFactory(name="Mine"), ProductFactory(name="Theirs")
    services.favorite_add(user=member, product_id=mine.pk)
    services.favorite_add(user=other_member, product_id=theirs.pk)

    response = member_client.get(reverse("browsing:favorites"))

    assert [f.product.name for f in response.context["favorites"]] == ["Mine"]


def test_favourites_page_needs_login(client):
    response = client.get(reverse("browsing:favorites"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_favourites_page_is_empty_for_a_new_member(member_client):
    response = member_client.get(reverse("browsing:favorites"))

    assert "You have not saved any products yet." in response.content.decode()


@pytest.mark.parametrize("count", [1, 20])
def test_favourites_page_query_count_does_not_grow(
    member_client, member, count, django_assert_max_num_queries
):
    for product in ProductFactory.create_batch(count, price=Decimal("5")):
        services.favorite_add(user=member, product_id=product.pk)
    member_client.get(reverse("browsing:favorites"))  # warms the category tree cache

    # session, member, cart badge, count, one page of favourites with their products
    with django_assert_max_num_queries(6):
        response = member_client.get(reverse("browsing:favorites"))

    assert len(response.context["favorites"]) == count


def test_favorite_toggle_for_a_product_saved_by_another_member_is_independent(client):
    alice, bob = MemberFactory(), MemberFactory()
    product = ProductFactory()
    services.favorite_add(user=alice, product_id=product.pk)
    client.force_login(bob)

    toggle(client, product, "remove")

    assert Favorite.objects.filter(user=alice, product=product).exists()


def test_button_with_an_id_beyond_64_bits_is_not_an_error(member_client):
    url = reverse("browsing:favorite_toggle", args=[10**20])

    assert member_client.post(url, {"action": "add"}).status_code == 404
    assert member_client.post(url, {"action": "remove"}).status_code == 302
