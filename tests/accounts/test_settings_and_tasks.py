"""Password hashing settings and the email tasks."""

import importlib

import pytest
from django.core import mail

from accounts import tasks
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_base_settings_hash_passwords_with_argon2():
    base = importlib.import_module("config.settings.base")

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_stored_passwords_are_argon2(member):
    assert member.password.startswith("argon2$")


def test_send_email_task_sends_through_django_mail():
    sent = tasks.send_email_task.delay(
        to=["someone@example.com"], subject="Hello", body="Body text"
    ).get()

    assert sent == 1
    assert (mail.outbox[0].to, mail.outbox[0].subject) == (["someone@example.com"], "Hello")


def test_verification_task_skips_verified_members():
    member = MemberFactory(email_verified_at="2024-01-01T00:00:00Z")

    assert tasks.send_verification_email(member.pk) is False
    assert mail.outbox == []


def test_verification_task_skips_missing_members():
    assert tasks.send_verification_email(987654321) is False


def test_reset_task_skips_members_without_usable_password():
    member = MemberFactory(password=None)
    member.set_unusable_password()
    member.save()

    assert tasks.send_password_reset_email(member.pk) is False
    assert mail.outbox == []


def test_verification_email_is_sent_to_a_member_who_reads_chinese(member):
    member.profile.language = "zh-hans"
    member.profile.save()

    tasks.send_verification_email(member.pk)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.email]
