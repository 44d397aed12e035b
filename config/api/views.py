from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema


@extend_schema(exclude=True)
def api_not_found(request: HttpRequest) -> JsonResponse:
    """The API's answer to a path that matches no endpoint (JSON, never HTML).

    A path that only lacks its trailing slash gets a hint naming the right one.
    """
    detail: dict = {"path": request.path}
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail["did_you_mean"] = request.path + "/"
    return JsonResponse(
        {"code": "not_found", "message": _("No such API endpoint."), "detail": detail},
        status=404,
    )
