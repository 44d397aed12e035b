"""Email verification: signed, time-limited links, the verify page and the resend page."""

import re

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.exceptions import EmailAlreadyVerified, InvalidToken
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_valid_token_marks_email_verified(member):
    token = services.email_verification_token_make(user=member)

    services.user_verify_email(token=token)

    member.refresh_from_db()
    assert member.email_verified_at is not None


def test_verifying_twice_keeps_the_first_time(member):
    token = services.email_verification_token_make(user=member)
    first = services.user_verify_email(token=token).email_verified_at

    again = services.user_verify_email(token=token).email_verified_at

    assert again == first


def test_tampered_token_is_refused(member):
    token = services.email_verification_token_make(user=member)

    with pytest.raises(InvalidToken) as excinfo:
        services.user_verify_email(token=token[:-2] + "xx")

    assert excinfo.value.code == "invalid_token"
    member.refresh_from_db()
    assert member.email_verified_at is None


def test_expired_token_is_refused(member, settings):
    token = services.email_verification_token_make(user=member)
    settings.EMAIL_VERIFICATION_MAX_AGE = -1  # every token is now too old

    with pytest.raises(InvalidToken) as excinfo:
        services.user_verify_email(token=token)

    assert excinfo.value.code == "token_expired"


def test_token_for_a_previous_email_is_refused(member):
    token = services.email_verification_token_make(user=member)
    User.objects.filter(pk=member.pk).update(email="changed@example.com")

    with pytest.raises(InvalidToken):
        services.user_verify_email(token=token)


def test_token_signed_with_another_salt_is_refused(member):
    token = signing.dumps({"uid": member.pk, "email": member.email}, salt="other")

    with pytest.raises(InvalidToken):
        services.user_verify_email(token=token)


def test_link_from_the_email_verifies(client, run_on_commit):
    with run_on_commit():
        services.user_register(email="link@example.com", password="Plum-orchard-lantern-42")
    path = re.search(r"https?://[^/]+(/accounts/verify-email/\S+/)", mail.outbox[0].body)[1]

    response = client.get(path)

    assert response.status_code == 200
    assert response.context["verified"] is True
    assert User.objects.get(email="link@example.com").email_verified_at is not None


def test_bad_link_shows_error_page(client):
    response = client.get(reverse("accounts:verify_email", args=["not-a-token"]))

    assert response.status_code == 400
    assert response.context["verified"] is False


def test_resend_sends_a_new_link(member_client, member, run_on_commit):
    with run_on_commit():
        response = member_client.post(reverse("accounts:verify_email_resend"))

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.email]


def test_resend_is_refused_when_already_verified(member):
    member.email_verified_at = timezone.now()
    member.save()

    with pytest.raises(EmailAlreadyVerified):
        services.email_verification_resend(user=member)


def test_resend_page_needs_login(client):
    response = client.get(reverse("accounts:verify_email_resend"))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
