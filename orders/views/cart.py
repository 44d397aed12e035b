"""Storefront pages: cart."""

urlpatterns: list = []
