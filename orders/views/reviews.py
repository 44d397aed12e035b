"""Storefront pages: reviews."""

urlpatterns: list = []
