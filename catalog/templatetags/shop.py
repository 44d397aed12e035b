from django import template

from catalog.money import format_money

register = template.Library()


@register.filter
def money(amount, currency=None) -> str:
    """{{ product.price|money }} -> "¥1,299.00" in the shop's currency."""
    return format_money(amount, currency)
