"""The mobile API under /api/v1/: each app contributes its own routes.

Anything under /api/v1/ that matches no route gets the JSON 404 of the API,
not the HTML page of the storefront.
"""

from django.urls import include, path, re_path

from config.api.views import api_not_found

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("browsing.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("promotions.api.urls")),
    path("", include("membership.api.urls")),
    path("", include("recommend.api.urls")),
    re_path(r"^.*$", api_not_found),
]
