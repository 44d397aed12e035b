"""What a locked-out login gets: JSON for the API, a page for the web."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, credentials=None, *args, **kwargs):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed login attempts. Your account is locked for %(minutes)d minutes."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "locked_out", "message": message, "detail": {"retry_after_minutes": minutes}},
            status=429,
        )
    return render(request, "accounts/lockout.html", {"message": message}, status=429)
