"""Storefront pages: orders."""

urlpatterns: list = []
