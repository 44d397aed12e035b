"""Celery tasks: unpaid-order expiry and auto-completion."""
