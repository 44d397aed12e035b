"""API: orders."""

urlpatterns: list = []
