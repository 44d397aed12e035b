"""API routes of membership."""

from membership.api.views import urlpatterns

__all__ = ["urlpatterns"]
