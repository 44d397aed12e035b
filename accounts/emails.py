"""The emails the accounts app sends, rendered from templates/accounts/email/.

Links are absolute, built from ``settings.SITE_URL``; each email is written in
the member's language.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Profile, User
from accounts.services import email_verification_token_make


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _language(user: User) -> str:
    language = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    return language or settings.LANGUAGE_CODE


def _send(user: User, template: str, context: dict) -> None:
    context = {"user": user, "shop_name": settings.SHOP_NAME, **context}
    with translation.override(_language(user)):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
        body = render_to_string(f"accounts/email/{template}.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])


def verification_email_send(*, user: User) -> None:
    token = email_verification_token_make(user=user)
    link = _absolute(reverse("accounts:verify_email", args=[token]))
    days = max(1, settings.EMAIL_VERIFICATION_MAX_AGE // 86400)
    _send(user, "verify_email", {"link": link, "days": days})


def password_reset_email_send(*, user: User) -> None:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = _absolute(reverse("accounts:password_reset_confirm", args=[uidb64, token]))
    hours = max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
    _send(user, "password_reset", {"link": link, "hours": hours, "uid": uidb64, "token": token})
