"""Cart pages: add (visitors and members), update, remove, the page, header count, login merge."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from browsing.models import Event
from orders import cart as carts
from orders.cart import CartOwner
from orders.models import Cart, CartItem
from tests.factories import MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"  # the factories' password
CART = "/cart/"
ADD = "/cart/add/"


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _add(client, product, quantity=1, **extra):
    return client.post(ADD, {"product": product.pk, "quantity": quantity, **extra}, follow=True)


# --- routes ---------------------------------------------------------------------------------------


def test_urls_have_their_fixed_names():
    assert reverse("orders:cart") == CART
    assert reverse("orders:cart_add") == ADD
    assert reverse("orders:cart_update", args=[7]) == "/cart/items/7/"
    assert reverse("orders:cart_remove", args=[7]) == "/cart/items/7/remove/"


@pytest.mark.parametrize("url", [ADD, "/cart/items/1/", "/cart/items/1/remove/"])
def test_actions_refuse_get(client, url):
    assert client.get(url).status_code == 405


# --- add -----------------------------------------------------------------------------------------


def test_a_visitor_can_add_to_cart_and_is_sent_back(client):
    product = ProductFactory(name="Green tea")

    response = client.post(ADD, {"product": product.pk, "quantity": 2, "next": "/search/?q=tea"})

    assert response.status_code == 302
    assert response["Location"] == "/search/?q=tea"
    cart = Cart.objects.get()
    assert cart.user_id is None and cart.visitor_key
    assert CartItem.objects.get().quantity == 2
    assert Event.objects.get(event_type="cart_add").session_key == cart.visitor_key


def test_adding_shows_a_success_message(client):
    response = _add(client, ProductFactory(name="Green tea"))

    assert any("Green tea" in m for m in _messages(response))


def test_add_goes_back_to_the_referring_page_but_never_off_site(client):
    product = ProductFactory()

    same_site = client.post(ADD, {"product": product.pk}, HTTP_REFERER="http://testserver/p/1/x/")
    off_site = client.post(ADD, {"product": product.pk, "next": "https://evil.example/"})

    assert same_site["Location"] == "http://testserver/p/1/x/"
    assert off_site["Location"] == CART


def test_a_missing_quantity_means_one(member_client):
    member_client.post(ADD, {"product": ProductFactory().pk})

    assert CartItem.objects.get().quantity == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"product": ""},
        {"product": "abc"},
        {"product": "0"},
        {"product": "-5"},
        {"product": "99999999999999999999999"},
        {"product": "999999"},
        {"quantity": "abc"},
        {"quantity": "0"},
        {"quantity": "-1"},
        {"quantity": "1.5"},
        {"quantity": "100"},
        {"quantity": "99999999999999999999999"},
        {"quantity": "\x00"},
    ],
)
def test_bad_add_input_gives_an_error_message_and_adds_nothing(member_client, data):
    product = ProductFactory(stock=500)
    payload = {"product": product.pk, "quantity": "1", **data}
    if not data:
        payload = {}

    response = member_client.post(ADD, payload, follow=True)

    assert response.status_code == 200
    assert not CartItem.objects.exists()
    assert len(_messages(response)) == 1


def test_adding_more_than_the_stock_says_how_many_are_left(member_client):
    product = ProductFactory(stock=2, name="Rare tea")

    response = _add(member_client, product, quantity=3)

    assert not CartItem.objects.exists()
    assert any("2" in m and "Rare tea" in m for m in _messages(response))


def test_adding_an_inactive_product_is_refused(member_client):
    response = _add(member_client, ProductFactory(is_active=False))

    assert not CartItem.objects.exists()
    assert _messages(response) == ["This product is not available."]


# --- the cart page -------------------------------------------------------------------------------


def test_empty_cart_page_says_so(client):
    response = client.get(CART)

    assert response.status_code == 200
    assert b"Your cart is empty." in response.content
    assert b'name="viewport"' in response.content


def test_cart_page_shows_lines_summary_and_free_shipping_hint(member_client, member, settings):
    settings.SHIPPING_FEE = "10.00"
    settings.FREE_SHIPPING_THRESHOLD = "99.00"
    product = ProductFactory(name="Oolong", price=Decimal("30.00"), stock=10)
    carts.cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=2)

    response = member_client.get(CART)

    html = response.content.decode()
    assert "Oolong" in html
    assert "css/cart.css" in html
    assert response.context["priced"].total == Decimal("70.00")
    assert 'data-hint="free_shipping"' in html and "39.00" in html
    assert reverse("orders:checkout") in html


def test_cart_page_flags_unavailable_lines_and_disables_checkout(member_client, member):
    product = ProductFactory(name="Discontinued", stock=5)
    carts.cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=1)
    product.is_active = False
    product.save()

    html = member_client.get(CART).content.decode()

    assert "Discontinued" in html
    assert 'data-problem="inactive"' in html
    assert f'href="{reverse("orders:checkout")}"' not in html


def test_cart_page_query_count_does_not_grow_with_lines(
    member_client, member, django_assert_max_num_queries
):
    owner = CartOwner(user=member)
    carts.cart_add_item(owner=owner, product_id=ProductFactory().pk, quantity=1)
    member_client.get(CART)  # warm the department-nav cache
    with CaptureQueriesContext(connection) as one:
        assert member_client.get(CART).status_code == 200
    one_line = len(one.captured_queries)  # read now: the next request resets the log
    for _ in range(19):
        carts.cart_add_item(owner=owner, product_id=ProductFactory().pk, quantity=1)
    member_client.get(CART)  # new categories reset that cache

    with django_assert_max_num_queries(one_line):
        response = member_client.get(CART)

    assert len(response.context["cart"].lines) == 20
    # session, user, cart lines, header count, points balance (promotions: from the cache),
    # the member's audience for promotions and tier privileges (membership: the tier, read once
    # per request and shared with pricing; profile + score in one query; staff tags), and
    # recommend's "you may also like" (6: the cart's products come from the page's lines,
    # purchases and favourite categories are one query, the products the member's tier may
    # not see come from membership's cache): none per line
    assert one_line <= 14


# --- update and remove ---------------------------------------------------------------------------


def test_updating_a_line_sets_its_quantity(member_client, member):
    item = carts.cart_add_item(
        owner=CartOwner(user=member), product_id=ProductFactory(stock=9).pk, quantity=1
    )

    response = member_client.post(reverse("orders:cart_update", args=[item.pk]), {"quantity": 4})

    assert response["Location"] == CART
    assert CartItem.objects.get().quantity == 4


@pytest.mark.parametrize("quantity", ["", "abc", "0", "-2", "2.5", "100", "1" * 30])
def test_bad_update_quantity_keeps_the_line_and_explains(member_client, member, quantity):
    item = carts.cart_add_item(
        owner=CartOwner(user=member), product_id=ProductFactory(stock=500).pk, quantity=1
    )

    response = member_client.post(
        reverse("orders:cart_update", args=[item.pk]), {"quantity": quantity}, follow=True
    )

    assert CartItem.objects.get().quantity == 1
    assert len(_messages(response)) == 1


def test_removing_a_line(member_client, member):
    item = carts.cart_add_item(
        owner=CartOwner(user=member), product_id=ProductFactory().pk, quantity=1
    )

    response = member_client.post(reverse("orders:cart_remove", args=[item.pk]))

    assert response["Location"] == CART
    assert not CartItem.objects.exists()


def test_another_members_line_is_404(member_client):
    theirs = carts.cart_add_item(
        owner=CartOwner(user=MemberFactory()), product_id=ProductFactory().pk, quantity=1
    )

    update = member_client.post(reverse("orders:cart_update", args=[theirs.pk]), {"quantity": 2})
    remove = member_client.post(reverse("orders:cart_remove", args=[theirs.pk]))

    assert (update.status_code, remove.status_code) == (404, 404)
    assert CartItem.objects.get().quantity == 1


def test_a_visitor_can_update_and_remove_their_own_lines(client):
    _add(client, ProductFactory(stock=9))
    item = CartItem.objects.get()

    client.post(reverse("orders:cart_update", args=[item.pk]), {"quantity": 3})
    assert CartItem.objects.get().quantity == 3
    client.post(reverse("orders:cart_remove", args=[item.pk]))
    assert not CartItem.objects.exists()


def test_huge_line_id_in_the_path_is_404(member_client):
    response = member_client.post("/cart/items/99999999999999999999999/remove/")

    assert response.status_code == 404


# --- header count --------------------------------------------------------------------------------


def test_header_shows_the_number_of_pieces(member_client, member):
    carts.cart_add_item(owner=CartOwner(user=member), product_id=ProductFactory().pk, quantity=3)

    response = member_client.get(CART)

    assert response.context["cart_count"]() == 3
    assert ">3</span>" in response.content.decode()


def test_a_visitors_header_count_follows_their_cart(client):
    _add(client, ProductFactory(), quantity=2)

    assert client.get(CART).context["cart_count"]() == 2


def test_the_cart_count_costs_no_query_for_a_visitor_without_a_cart(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.cache import SessionStore

    from orders.context_processors import cart

    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    request.session["visitor_key"] = "someone-who-only-browsed"

    with CaptureQueriesContext(connection) as queries:
        assert cart(request)["cart_count"] == 0
    assert len(queries.captured_queries) == 0


def test_the_cart_count_costs_one_query_for_a_member_and_only_when_used(rf, member):
    from orders.context_processors import cart

    request = rf.get("/")
    request.user = member
    carts.cart_add_item(owner=CartOwner(user=member), product_id=ProductFactory().pk, quantity=2)

    with CaptureQueriesContext(connection) as queries:
        count = cart(request)["cart_count"]
        assert len(queries.captured_queries) == 0  # not counted until a template uses it
        assert (count(), count()) == (2, 2)
    assert len(queries.captured_queries) == 1


# --- merge at login ------------------------------------------------------------------------------


def test_logging_in_merges_the_visitors_cart_into_the_members(client, member):
    tea, cup = ProductFactory(stock=10), ProductFactory(stock=10)
    carts.cart_add_item(owner=CartOwner(user=member), product_id=tea.pk, quantity=1)
    _add(client, tea, quantity=2)
    _add(client, cup, quantity=1)

    response = client.post(
        reverse("accounts:login"), {"username": member.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    lines = dict(CartItem.objects.filter(cart__user=member).values_list("product_id", "quantity"))
    assert lines == {tea.pk: 3, cup.pk: 1}
    assert Cart.objects.count() == 1
    assert client.get(CART).context["cart_count"]() == 4
