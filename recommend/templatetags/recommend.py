"""Storefront strips: ``{% recommended_for_you %}`` (home), ``{% product_recommendations
product %}`` (bought together and similar items, product page), ``{% cart_suggestions %}``
(cart).

Each reads one served list (a bounded number of queries, see ``recommend.serving``)
and renders ``recommend/_strip.html``; links carry the list id for click tracking.
"""

from django import template
from django.utils.translation import gettext as _

from recommend import serving

register = template.Library()
STRIP = "recommend/_strip.html"


def _strip(served, title: str, strip_id: str) -> dict:
    return {"served": served, "title": title, "strip_id": strip_id}


@register.inclusion_tag(STRIP, takes_context=True)
def recommended_for_you(context, k: int = 10):
    request = context.get("request")
    user = getattr(request, "user", None)
    served = serving.recommendations_for(user=user, context="home", k=k)
    title = _("Recommended for you") if user and user.is_authenticated else _("Popular right now")
    return _strip(served, title, "for-you-title")


@register.inclusion_tag(STRIP, takes_context=True)
def cart_suggestions(context, k: int = 8):
    request = context.get("request")
    # the cart page's lines (orders.cart.CartView): no second read of the cart
    lines = getattr(context.get("cart"), "lines", None)
    ids = None
    if lines is not None:
        ids = [line.product.pk for line in sorted(lines, key=lambda li: li.item_id, reverse=True)]
    served = serving.recommendations_for(
        user=getattr(request, "user", None), context="cart", k=k, cart_product_ids=ids
    )
    return _strip(served, _("You may also like"), "also-like-title")


@register.inclusion_tag("recommend/_product_strips.html", takes_context=True)
def product_recommendations(context, product, k: int = 8):
    """ "Frequently bought together" and "Similar items" of a product page."""
    request = context.get("request")
    lists = serving.item_lists(
        product_id=product.pk,
        kinds=("bought", "similar"),
        k=k,
        user=getattr(request, "user", None),
        distinct=True,
    )
    return {
        "strips": [
            _strip(lists["bought"], _("Frequently bought together"), "bought-together-title"),
            _strip(lists["similar"], _("Similar items"), "similar-title"),
        ]
    }
