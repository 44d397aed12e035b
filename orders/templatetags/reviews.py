"""Review tags for storefront templates.

``{% load reviews %}``

- ``{% product_reviews product %}``: the product page's review section (average
  with stars, count, histogram and the latest visible reviews) in at most three
  queries, whatever the number of reviews (one when there are none).
- ``{% rating_stars value %}``: five stars filled to ``value`` (0-5, e.g. an
  average of 4.3), with a text label for screen readers; for cards and lists.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from orders import reviews as review_selectors

register = template.Library()


@register.inclusion_tag("orders/_product_reviews.html")
def product_reviews(product) -> dict:
    summary = review_selectors.product_rating_summary(product.pk)
    latest = review_selectors.product_reviews(product.pk) if summary.count else []
    return {"product": product, "summary": summary, "reviews": latest}


@register.inclusion_tag("orders/_stars.html")
def rating_stars(value) -> dict:
    try:
        number = Decimal(str(value)) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        return {"value": None, "percent": 0}
    number = min(Decimal(5), max(Decimal(0), number))
    return {"value": number, "percent": int(number * 20)}
