"""Admin: orders, status timeline, payments and refunds."""
