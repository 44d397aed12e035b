"""Celery tasks of the accounts app: they take ids, re-fetch and send one email.

Enqueue them with ``transaction.on_commit`` (the services do). Mail server
hiccups are retried a few times with back-off; nothing else is.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.core.mail import send_mail

from accounts import emails
from accounts.models import User

logger = logging.getLogger(__name__)

TRANSIENT_MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)
MAIL_TASK_OPTIONS = {
    "soft_time_limit": 30,
    "time_limit": 60,
    "autoretry_for": TRANSIENT_MAIL_ERRORS,
    "retry_backoff": 10,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**MAIL_TASK_OPTIONS)
def send_email_task(*, to: list[str], subject: str, body: str) -> int:
    """Send one plain-text email through Django's configured backend; returns the count sent."""
    return send_mail(subject, body, None, list(to))


@shared_task(**MAIL_TASK_OPTIONS)
def send_verification_email(user_id: int) -> bool:
    """Send the email-verification link; skipped if the member is gone, inactive or verified."""
    user = User.objects.filter(pk=user_id, is_active=True, email_verified_at__isnull=True).first()
    if user is None:
        logger.info("verification email for user %s skipped: nothing to verify", user_id)
        return False
    emails.verification_email_send(user=user)
    return True


@shared_task(**MAIL_TASK_OPTIONS)
def send_password_reset_email(user_id: int) -> bool:
    """Send a password-reset link to an active member with a usable password."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        logger.info("password reset email for user %s skipped", user_id)
        return False
    emails.password_reset_email_send(user=user)
    return True
