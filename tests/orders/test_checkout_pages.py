"""Checkout page: address choice or a new one inline, note, idempotent submit, refusals."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.cart import CartOwner, cart_add_item
from orders.models import CartItem, Order
from tests.factories import AddressFactory, MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db

CHECKOUT = "/checkout/"
NEW_ADDRESS = {
    "new-recipient_name": "Han Meimei",
    "new-phone": "13912345678",
    "new-country": "cn",
    "new-city": "Shanghai",
    "new-line1": "100 Nanjing Road",
    "new-postal_code": "200001",
}


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def address(member):
    return AddressFactory(user=member, is_default=True, line1="1 Wensan Road")


def _add(member, product=None, quantity=1):
    product = product or ProductFactory(stock=10)
    return cart_add_item(owner=CartOwner(user=member), product_id=product.pk, quantity=quantity)


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_checkout_url_has_its_fixed_name():
    assert reverse("orders:checkout") == CHECKOUT


def test_visitors_are_sent_to_log_in(client):
    response = client.get(CHECKOUT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_empty_cart_goes_back_to_the_cart(member_client):
    response = member_client.get(CHECKOUT)

    assert response["Location"] == reverse("orders:cart")


def test_a_cart_with_flagged_lines_goes_back_to_the_cart(member_client, member):
    product = ProductFactory(stock=3)
    _add(member, product)
    product.stock = 0
    product.save()

    response = member_client.get(CHECKOUT, follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:cart")
    assert len(_messages(response)) == 1


def test_the_page_lists_addresses_summary_and_a_fresh_key(member_client, member, address):
    _add(member, ProductFactory(name="Oolong", price=Decimal("120.00")))

    first = member_client.get(CHECKOUT)
    second = member_client.get(CHECKOUT)

    html = first.content.decode()
    assert first.status_code == 200
    assert "1 Wensan Road" in html and "Oolong" in html
    assert f'value="{address.pk}" checked' in html
    key_1 = first.context["form"].initial["idempotency_key"]
    assert key_1 and key_1 != second.context["form"].initial["idempotency_key"]
    assert f'value="{key_1}"' in html
    assert 'name="new-line1"' in html
    assert "css/cart.css" in html


def test_placing_with_a_saved_address_goes_to_the_pay_page(member_client, member, address):
    product = ProductFactory(stock=4)
    _add(member, product, 3)

    response = member_client.post(
        CHECKOUT, {"address": address.pk, "note": "Thanks", "idempotency_key": "web-1"}
    )

    order = Order.objects.get()
    assert response["Location"] == reverse("orders:order_pay", args=[order.number])
    assert (order.note, order.source, order.line1) == ("Thanks", "web", "1 Wensan Road")
    product.refresh_from_db()
    assert product.stock == 1 and not CartItem.objects.exists()


def test_placing_with_a_new_address_saves_it(member_client, member):
    _add(member)

    response = member_client.post(CHECKOUT, {"address": "new", **NEW_ADDRESS})

    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.recipient_name, order.country) == ("Han Meimei", "CN")
    assert member.addresses.get().is_default


def test_a_double_submit_places_one_order(member_client, member, address):
    _add(member)
    form = {"address": address.pk, "idempotency_key": "same-page"}

    first = member_client.post(CHECKOUT, form)
    second = member_client.post(CHECKOUT, form)

    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_a_double_submit_with_a_new_address_saves_it_once(member_client, member):
    _add(member)
    form = {"address": "new", "idempotency_key": "same-page", **NEW_ADDRESS}

    member_client.post(CHECKOUT, form)
    member_client.post(CHECKOUT, form)

    assert Order.objects.count() == 1
    assert member.addresses.count() == 1


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"address": ""},
        {"address": "abc"},
        {"address": "-1"},
        {"address": "new"},
        {"address": "new", **NEW_ADDRESS, "new-phone": "not a phone"},
        {"address": "ADDR", "note": "x" * 256},
        {"address": "ADDR", "idempotency_key": "k" * 65},
        {"address": "99999999999999999999999"},
    ],
)
def test_bad_input_re_renders_the_form_with_errors(member_client, member, address, form):
    _add(member)
    form = {k: (address.pk if v == "ADDR" else v) for k, v in form.items()}

    response = member_client.post(CHECKOUT, form)

    assert response.status_code == 400
    assert response.context["form"].errors or response.context["address_form"].errors
    assert not Order.objects.exists()


def test_another_members_address_is_refused(member_client, member):
    _add(member)
    theirs = AddressFactory(user=MemberFactory(), line1="Secret street")

    response = member_client.post(CHECKOUT, {"address": theirs.pk})

    assert response.status_code == 400
    assert response.context["form"].errors["address"]
    assert "Secret street" not in response.content.decode()
    assert not Order.objects.exists()


def test_stock_that_ran_out_sends_the_member_back_to_the_cart(member_client, member, address):
    product = ProductFactory(stock=5, name="Rare tea")
    _add(member, product, 2)
    product.stock = 1
    product.save()

    response = member_client.post(CHECKOUT, {"address": address.pk}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:cart")
    assert any("Rare tea" in m for m in _messages(response))
    assert not Order.objects.exists()
