"""API: cart."""

urlpatterns: list = []
