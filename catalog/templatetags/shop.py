from django import template

from catalog.money import format_money

register = template.Library()


@register.filter
def money(amount, currency=None) -> str:
    """{{ product.price|money }} -> "¥1,299.00" in the shop's currency."""
    return format_money(amount, currency)


@register.filter
def placeholder_hue(category_id) -> int:
    """A stable hue (0-359) per category for image placeholders."""
    try:
        return (int(category_id) * 137) % 360
    except (TypeError, ValueError):
        return 210
