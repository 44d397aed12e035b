from django.conf import settings
from django.utils.functional import SimpleLazyObject

from catalog.selectors import category_departments


def shop(request) -> dict:
    """Shop-wide values every template may use.

    ``nav_departments`` comes from the cached category tree: no query when the
    cache is warm, one otherwise, none on pages that do not use it.
    """
    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "SHOP_CURRENCY": settings.SHOP_CURRENCY,
        "nav_departments": SimpleLazyObject(category_departments),
    }
