"""Storefront routes of promotions (member pages)."""

from promotions.views import urlpatterns

app_name = "promotions"
__all__ = ["app_name", "urlpatterns"]
