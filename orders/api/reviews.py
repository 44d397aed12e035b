"""API: reviews."""

urlpatterns: list = []
