"""Receivers of other apps' signals (login: merge the visitor's cart)."""
