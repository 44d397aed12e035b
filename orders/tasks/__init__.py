"""Celery tasks of orders, one module per area; names are fixed with ``name=`` so
the beat schedule in settings (``orders.tasks.<task>``) does not depend on the layout."""

from orders.tasks.lifecycle import *  # noqa: F403
from orders.tasks.reviews import *  # noqa: F403
