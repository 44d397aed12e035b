"""Every account page renders for the right visitor and sends others to the login page."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

MEMBER_PAGES = [
    "accounts:profile",
    "accounts:profile_edit",
    "accounts:preferences",
    "accounts:register_preferences",
    "accounts:addresses",
    "accounts:address_add",
    "accounts:password_change",
    "accounts:password_change_done",
    "accounts:verify_email_resend",
    "accounts:privacy",
    "accounts:account_delete",
]
ANONYMOUS_PAGES = [
    "accounts:login",
    "accounts:register",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_complete",
]


@pytest.mark.parametrize("url_name", MEMBER_PAGES)
def test_member_page_renders(member_client, url_name):
    response = member_client.get(reverse(url_name))

    assert response.status_code == 200
    assert b'name="viewport"' in response.content


@pytest.mark.parametrize("url_name", MEMBER_PAGES)
def test_member_page_sends_visitors_to_login(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url_name", ANONYMOUS_PAGES)
def test_public_page_renders(client, url_name):
    assert client.get(reverse(url_name)).status_code == 200


def test_register_page_sends_members_to_their_profile(member_client):
    response = member_client.get(reverse("accounts:register"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


def test_header_shows_account_links(member):
    visitor, signed_in = Client(), Client()
    signed_in.force_login(member)

    anonymous = visitor.get(reverse("accounts:login")).content.decode()
    member_page = signed_in.get(reverse("accounts:profile")).content.decode()

    assert reverse("accounts:register") in anonymous
    assert reverse("accounts:logout") in member_page
