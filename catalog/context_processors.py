from django.conf import settings


def shop(request) -> dict:
    """Shop-wide values every template may use."""
    return {"SHOP_NAME": settings.SHOP_NAME, "SHOP_CURRENCY": settings.SHOP_CURRENCY}
