"""One exception handler for the whole API.

Every error leaves as JSON ``{"code", "message", "detail"}`` with a 4xx status.
Services raise ``DomainError`` subclasses; DRF and Django exceptions are mapped
here so that views never build error bodies themselves.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """Base class of the errors services raise; mapped to a 4xx response."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    message = _("The request could not be processed.")

    def __init__(self, message: str | None = None, *, code: str | None = None, detail: Any = None):
        self.message = message or self.message
        if code:
            self.code = code
        self.detail = detail
        super().__init__(str(self.message))


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    message = _("Not found.")


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    message = _("The request conflicts with the current state.")


_DEFAULT_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}

_DEFAULT_MESSAGES = {
    400: _("The request is invalid."),
    401: _("Authentication credentials were not provided or are invalid."),
    403: _("You do not have permission to perform this action."),
    404: _("Not found."),
    405: _("Method not allowed."),
    429: _("Too many requests. Please wait and try again."),
}


def error_body(code: str, message: Any, detail: Any = None) -> dict:
    return {"code": code, "message": str(message), "detail": detail}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.detail), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it surface as a 500 and be fixed
    status_code = response.status_code
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        code = "validation_error"
        message = _DEFAULT_MESSAGES[400]
        if (
            isinstance(data, dict)
            and set(data) == {"non_field_errors"}
            and data["non_field_errors"]
        ):
            message = data["non_field_errors"][0]
        detail = data
    else:
        code = getattr(exc, "default_code", None) or _DEFAULT_CODES.get(status_code, "error")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        if isinstance(codes, str):
            code = codes
        message = data.get("detail") if isinstance(data, dict) and "detail" in data else data
        if not message:
            message = _DEFAULT_MESSAGES.get(status_code, "")
        detail = None
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            detail = {"retry_after_seconds": int(exc.wait)}
    response.data = error_body(code, message, detail)
    return response
