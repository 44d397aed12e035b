"""Password reset by email, web and API: never reveals whether an email is registered."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Plum-orchard-lantern-42"
API_RESET = "/api/v1/auth/password-reset/"
API_CONFIRM = "/api/v1/auth/password-reset/confirm/"


def _uid(user):
    return urlsafe_base64_encode(force_bytes(user.pk))


def test_web_reset_sends_a_link_to_a_registered_email(client, member, run_on_commit):
    with run_on_commit():
        response = client.post(reverse("accounts:password_reset"), {"email": "Alice@Example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.email]


def test_web_reset_answers_the_same_for_an_unknown_email(client, member, run_on_commit):
    with run_on_commit():
        known = client.post(reverse("accounts:password_reset"), {"email": member.email})
        unknown = client.post(reverse("accounts:password_reset"), {"email": "who@example.com"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1  # only the registered one got mail


def test_web_reset_link_sets_a_new_password(client, member, run_on_commit):
    with run_on_commit():
        client.post(reverse("accounts:password_reset"), {"email": member.email})
    path = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]

    form_page = client.get(path, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_web_bad_reset_link_shows_invalid_page(client, member):
    response = client.get(
        reverse("accounts:password_reset_confirm", args=[_uid(member), "bad-token"])
    )

    assert response.status_code == 200
    assert response.context["validlink"] is False


def test_api_reset_answers_the_same_whether_or_not_email_exists(api_client, member, run_on_commit):
    with run_on_commit():
        known = api_client.post(API_RESET, {"email": member.email}, format="json")
        unknown = api_client.post(API_RESET, {"email": "who@example.com"}, format="json")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1


def test_api_reset_rejects_a_malformed_email(api_client):
    response = api_client.post(API_RESET, {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "email" in response.json()["detail"]


def test_api_confirm_sets_password_and_drops_api_tokens(api_client, member):
    Token.objects.create(user=member)
    token = default_token_generator.make_token(member)

    response = api_client.post(
        API_CONFIRM,
        {"uid": _uid(member), "token": token, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(user=member).exists()


def test_api_confirm_token_works_only_once(api_client, member):
    body = {
        "uid": _uid(member),
        "token": default_token_generator.make_token(member),
        "new_password": NEW_PASSWORD,
    }
    api_client.post(API_CONFIRM, body, format="json")

    response = api_client.post(API_CONFIRM, {**body, "new_password": "Another-long-secret-7"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


def test_api_confirm_rejects_a_bad_token(api_client, member):
    response = api_client.post(
        API_CONFIRM,
        {"uid": _uid(member), "token": "abc-def", "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"
    member.refresh_from_db()
    assert not member.check_password(NEW_PASSWORD)


def test_api_confirm_rejects_a_garbage_uid(api_client):
    response = api_client.post(
        API_CONFIRM, {"uid": "!!!", "token": "abc", "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


def test_api_confirm_rejects_a_weak_password_and_keeps_the_old_one(api_client):
    user = MemberFactory()
    response = api_client.post(
        API_CONFIRM,
        {
            "uid": _uid(user),
            "token": default_token_generator.make_token(user),
            "new_password": "12345",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_password"
    assert response.json()["detail"]["password"]
