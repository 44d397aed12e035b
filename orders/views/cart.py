"""Storefront pages: the cart (members and anonymous visitors).

    GET  /cart/                        orders:cart         lines, flags, summary
    POST /cart/add/                    orders:cart_add     product, quantity; back with a message
    POST /cart/items/<id>/             orders:cart_update  quantity
    POST /cart/items/<id>/remove/      orders:cart_remove
    POST /cart/offers/                 orders:cart_offers  coupon code and points to use (session)

Views parse the form, call one service of ``orders.cart`` and redirect with a
message; the coupon code and points the member chose are kept in the session
(``OFFERS_SESSION_KEY``) and priced by the pricing adjusters on every view of
the cart and the checkout (a code that stopped working shows why); the cart
page renders an evaluated ``CartView`` (one query). The quantity limits
(stock, CART_MAX_QUANTITY) are the services' to enforce.
Another owner's cart line is a 404.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from config.api.errors import DomainError
from orders import cart as carts

QUANTITY_ERRORS = {
    "required": gettext_lazy("Enter a quantity."),
    "invalid": gettext_lazy("The quantity must be a whole number."),
    "min_value": gettext_lazy("The quantity must be at least 1."),
}
PRODUCT_ERRORS = {
    "required": gettext_lazy("Choose a product."),
    "invalid": gettext_lazy("This product does not exist."),
    "min_value": gettext_lazy("This product does not exist."),
    "max_value": gettext_lazy("This product does not exist."),
}


OFFERS_SESSION_KEY = "cart_offers"
COUPON_MAX_LENGTH = 40


def offers_from_session(request: HttpRequest) -> dict:
    """The pricing options (``coupon``, ``points``) the member chose for this cart."""
    stored = request.session.get(OFFERS_SESSION_KEY) or {}
    return {k: v for k, v in stored.items() if k in ("coupon", "points") and v not in ("", 0, None)}


def offers_store(request: HttpRequest, options: dict) -> None:
    request.session[OFFERS_SESSION_KEY] = {
        k: v for k, v in options.items() if k in ("coupon", "points") and v not in ("", 0, None)
    }


class OffersForm(forms.Form):
    coupon = forms.CharField(
        label=gettext_lazy("Coupon code"), max_length=COUPON_MAX_LENGTH, required=False
    )
    points = forms.IntegerField(
        label=gettext_lazy("Points to use"),
        min_value=0,
        max_value=10**9,
        required=False,
        error_messages={
            "invalid": gettext_lazy("Enter the points to use as a whole number."),
            "min_value": gettext_lazy("Enter the points to use as a whole number."),
            "max_value": gettext_lazy("That is more points than can be used on this order."),
        },
    )
    action = forms.ChoiceField(
        choices=[("apply", "apply"), ("remove_coupon", "remove_coupon"), ("clear", "clear")],
        required=False,
    )


class _FirstError:
    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return ""


class QuantityForm(_FirstError, forms.Form):
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"), min_value=1, error_messages=QUANTITY_ERRORS
    )


class CartAddForm(_FirstError, forms.Form):
    product = forms.IntegerField(min_value=1, max_value=carts.MAX_ID, error_messages=PRODUCT_ERRORS)
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"),
        min_value=1,
        required=False,
        error_messages=QUANTITY_ERRORS,
    )

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data.get("quantity")
        return 1 if quantity is None else quantity


def _back(request: HttpRequest, fallback: str = "orders:cart") -> HttpResponse:
    """Redirect to ``next`` or the referring page when they are on this site, else ``fallback``."""
    for target in (request.POST.get("next"), request.META.get("HTTP_REFERER")):
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(target)
    return redirect(fallback)


# --- views ---------------------------------------------------------------------------------


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    options = offers_from_session(request)
    view = carts.cart_view(owner=carts.CartOwner.from_request(request), options=options)
    return render(
        request,
        "orders/cart.html",
        {
            "cart": view,
            "priced": view.priced,
            "max_quantity": settings.CART_MAX_QUANTITY,
            "offers_form": OffersForm(initial=options),
        },
    )


@require_POST
def cart_offers(request: HttpRequest) -> HttpResponse:
    """Apply (or remove) a coupon code and points: kept only when the pricing accepts
    them; otherwise the reason is shown and the previous choice stays."""
    form = OffersForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return _back(request)
    action = form.cleaned_data["action"] or "apply"
    options = offers_from_session(request)
    if action == "clear":
        offers_store(request, {})
        messages.success(request, _("Coupon and points removed."))
        return _back(request)
    if action == "remove_coupon":
        options.pop("coupon", None)
        offers_store(request, options)
        messages.success(request, _("Coupon removed."))
        return _back(request)
    wanted = {
        "coupon": form.cleaned_data["coupon"].strip().upper(),
        "points": form.cleaned_data["points"] or 0,
    }
    view = carts.cart_view(owner=carts.CartOwner.from_request(request), options=wanted)
    rejected = {r.option: r for r in view.priced.rejections}
    for option, rejection in rejected.items():
        messages.error(request, rejection.message)
        wanted[option] = options.get(option, "")
    offers_store(request, wanted)
    if not rejected and (wanted["coupon"] or wanted["points"]):
        messages.success(request, _("Your cart has been updated."))
    return _back(request)


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = CartAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return _back(request)
    owner = carts.CartOwner.from_request(request, create=True)
    try:
        item = carts.cart_add_item(
            owner=owner,
            product_id=form.cleaned_data["product"],
            quantity=form.cleaned_data["quantity"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(request)
    if not owner.is_member:
        request.session[carts.CART_SESSION_KEY] = owner.visitor
    messages.success(
        request,
        _("“%(name)s” was added to your cart.") % {"name": item.product.display_name},
    )
    return _back(request)


@require_POST
def cart_update(request: HttpRequest, pk: int) -> HttpResponse:
    form = QuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("orders:cart")
    try:
        carts.cart_update_item(
            owner=carts.CartOwner.from_request(request),
            item_id=pk,
            quantity=form.cleaned_data["quantity"],
        )
    except carts.CartItemNotFound:
        raise Http404(_("This item is not in your cart.")) from None
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("orders:cart")
    messages.success(request, _("Your cart has been updated."))
    return redirect("orders:cart")


@require_POST
def cart_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        carts.cart_remove_item(owner=carts.CartOwner.from_request(request), item_id=pk)
    except carts.CartItemNotFound:
        raise Http404(_("This item is not in your cart.")) from None
    messages.success(request, _("The item has been removed from your cart."))
    return redirect("orders:cart")


urlpatterns = [
    path("cart/", cart, name="cart"),
    path("cart/add/", cart_add, name="cart_add"),
    path("cart/items/<int:pk>/", cart_update, name="cart_update"),
    path("cart/items/<int:pk>/remove/", cart_remove, name="cart_remove"),
    path("cart/offers/", cart_offers, name="cart_offers"),
]
