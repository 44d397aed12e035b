"""Django admin of orders, one module per area."""

from orders.admin import orders, reviews  # noqa: F401
