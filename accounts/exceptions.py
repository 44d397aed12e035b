"""Domain errors raised by the accounts services.

Each maps to ``{"code", "message", "detail"}`` through ``config.api.errors``;
web forms show ``message`` (or the per-field ``detail``) as form errors.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from config.api.errors import DomainError, NotFound


class EmailAlreadyRegistered(DomainError):
    code = "email_taken"
    message = _("An account with this email address already exists.")


class InvalidPassword(DomainError):
    """The password fails the validators; ``detail`` is ``{"password": [messages]}``."""

    code = "invalid_password"
    message = _("This password is not allowed.")


class InvalidToken(DomainError):
    code = "invalid_token"
    message = _("This link is invalid or has expired.")


class EmailAlreadyVerified(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "already_verified"
    message = _("Your email address is already verified.")


class AddressNotFound(NotFound):
    code = "address_not_found"
    message = _("Address not found.")


class DefaultAddressRequired(DomainError):
    code = "default_address_required"
    message = _(
        "You always have one default address. Choose another address as the default instead."
    )
