"""Storefront pages: checkout."""

urlpatterns: list = []
