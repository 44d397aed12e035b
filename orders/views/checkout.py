"""Storefront pages: checkout and payment (members only).

    GET POST /checkout/                 orders:checkout   address, note, summary → place the order
    GET POST /orders/<number>/pay/      orders:order_pay  summary, pay (or simulate a decline)

The checkout page carries a hidden idempotency key made when it renders, so a
double submit places one order. The coupon code and points come prefilled from
the cart (session) and can be changed here ("Apply" re-prices without placing
the order); a code or amount the pricing refuses shows its reason on the field.
Another member's order number is a 404.
"""

from __future__ import annotations

import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import selectors as account_selectors
from accounts.exceptions import AddressNotFound
from accounts.forms import AddressForm
from config.api.errors import DomainError
from orders import cart as carts
from orders import checkout as checkouts
from orders import selectors
from orders.exceptions import (
    CartEmpty,
    OrderNotFound,
    OutOfStock,
    PaymentFailed,
    ProductUnavailable,
    TransitionNotAllowed,
)
from orders.models import Order
from orders.paying import order_pay
from orders.views.cart import COUPON_MAX_LENGTH, offers_from_session, offers_store
from orders.views.orders import NUMBER

NEW_ADDRESS = "new"
ADDRESS_PREFIX = "new"


class CheckoutForm(forms.Form):
    address = forms.CharField(
        label=gettext_lazy("Ship to"),
        max_length=20,
        error_messages={"required": gettext_lazy("Choose a shipping address.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note to the shop"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 255}),
    )
    idempotency_key = forms.CharField(
        max_length=checkouts.IDEMPOTENCY_KEY_MAX, required=False, widget=forms.HiddenInput
    )
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

    def options(self) -> dict:
        """The pricing options of a valid form (coupon code, points)."""
        data = self.cleaned_data
        return {
            "coupon": (data.get("coupon") or "").strip().upper(),
            "points": data.get("points") or 0,
        }

    def clean_address(self) -> str:
        value = self.cleaned_data["address"].strip()
        if value != NEW_ADDRESS and not value.isdigit():
            raise forms.ValidationError(_("Choose a shipping address."), code="invalid")
        return value


class PayForm(forms.Form):
    action = forms.ChoiceField(choices=[("pay", "pay"), ("fail", "fail")])


def _checkout_address_form(data=None) -> AddressForm:
    form = AddressForm(data, prefix=ADDRESS_PREFIX)
    form.fields.pop("make_default")
    return form


def _add_validation_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


OPTION_FIELDS = {"coupon": "coupon", "points": "points"}


def _option_field(code: str) -> str | None:
    """The form field an error code belongs to (coupon_*, points_*), else None."""
    for prefix, field in OPTION_FIELDS.items():
        if code.startswith(f"{prefix}_"):
            return field
    return None


def _render_checkout(request, view, form, address_form, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "orders/checkout.html",
        {
            "cart": view,
            "priced": view.priced,
            "form": form,
            "address_form": address_form,
            "addresses": list(account_selectors.address_list(user=request.user)),
            "new_address": NEW_ADDRESS,
        },
        status=status,
    )


def _cart_not_ready(request, view) -> HttpResponse | None:
    if view.is_empty:
        messages.info(request, _("Your cart is empty."))
        return redirect("orders:cart")
    if not view.can_checkout:
        messages.error(
            request, _("Some items in your cart need your attention before you check out.")
        )
        return redirect("orders:cart")
    return None


def _checkout_reprice(request, owner, form: CheckoutForm) -> HttpResponse:
    """ "Apply" on the checkout page: re-price with the coupon and points typed there and
    show the page again (only their errors; nothing is placed)."""
    form.is_valid()
    option_errors = form.has_error("coupon") or form.has_error("points")
    options = offers_from_session(request) if option_errors else form.options()
    view = carts.cart_view(owner=owner, options=options)
    for rejection in view.priced.rejections:
        form.add_error(OPTION_FIELDS.get(rejection.option), rejection.message)
    if not option_errors and not view.priced.rejections:
        offers_store(request, options)
    for name in list(form.errors):
        if name not in OPTION_FIELDS:
            del form.errors[name]
    address_form = _checkout_address_form()
    address_form.initial = {
        name: request.POST.get(f"{ADDRESS_PREFIX}-{name}", "") for name in address_form.fields
    }
    return _render_checkout(request, view, form, address_form)


@login_required
def checkout(request: HttpRequest) -> HttpResponse:
    owner = carts.CartOwner(user=request.user)
    if request.method != "POST":
        options = offers_from_session(request)
        view = carts.cart_view(owner=owner, options=options)
        not_ready = _cart_not_ready(request, view)
        if not_ready:
            return not_ready
        default = account_selectors.address_default(user=request.user)
        form = CheckoutForm(
            initial={
                "address": str(default.pk) if default else NEW_ADDRESS,
                "idempotency_key": secrets.token_urlsafe(24),
                "coupon": options.get("coupon", ""),
                "points": options.get("points") or None,
            }
        )
        return _render_checkout(request, view, form, _checkout_address_form())

    form = CheckoutForm(request.POST)
    choosing_new = request.POST.get("address", "").strip() == NEW_ADDRESS
    address_form = _checkout_address_form(request.POST if choosing_new else None)
    if request.POST.get("action") == "apply":
        return _checkout_reprice(request, owner, form)
    form_ok = form.is_valid()
    options = form.options() if form_ok else offers_from_session(request)
    view = carts.cart_view(owner=owner, options=options)
    if not form_ok or (choosing_new and not address_form.is_valid()):
        return _render_checkout(request, view, form, address_form, status=400)
    offers_store(request, options)
    data = form.cleaned_data
    try:
        order = checkouts.order_place(
            user=request.user,
            address_id=None if choosing_new else data["address"],
            address=address_form.service_data() if choosing_new else None,
            save_address=choosing_new,
            note=data["note"],
            idempotency_key=data["idempotency_key"] or None,
            source=Order.Source.WEB,
            options=options,
        )
    except AddressNotFound:
        form.add_error("address", _("Choose one of your addresses."))
        return _render_checkout(request, view, form, address_form, status=400)
    except ValidationError as exc:
        _add_validation_errors(address_form, exc)
        return _render_checkout(request, view, form, address_form, status=400)
    except (CartEmpty, OutOfStock, ProductUnavailable) as exc:
        messages.error(request, exc.message)
        return redirect("orders:cart")
    except DomainError as exc:
        form.add_error(_option_field(exc.code), str(exc.message))
        return _render_checkout(request, view, form, address_form, status=400)
    offers_store(request, {})
    if not order.replayed:
        messages.success(
            request, _("Your order %(number)s has been placed.") % {"number": order.number}
        )
    return redirect("orders:order_pay", number=order.number)


@login_required
def order_pay_page(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = selectors.order_get_for_user(user=request.user, number=number)
    except OrderNotFound:
        raise Http404(_("Order not found.")) from None
    if order.status != Order.Status.PENDING_PAYMENT:
        messages.info(request, _("This order does not need paying."))
        return redirect(order.get_absolute_url())
    if request.method == "POST":
        form = PayForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose how to pay."))
            return redirect("orders:order_pay", number=order.number)
        simulate = "fail" if form.cleaned_data["action"] == "fail" else None
        try:
            order_pay(order_id=order.pk, user=request.user, simulate=simulate)
        except PaymentFailed as exc:
            messages.error(request, exc.message)
            return redirect("orders:order_pay", number=order.number)
        except TransitionNotAllowed as exc:
            messages.error(request, exc.message)
            return redirect(order.get_absolute_url())
        messages.success(request, _("Thank you! Your payment has been received."))
        return redirect(order.get_absolute_url())
    return render(
        request,
        "orders/pay.html",
        {
            "order": order,
            "items": list(order.items.all()),
            "failed_attempts": sum(1 for p in order.payments.all() if p.status == "failed"),
        },
    )


urlpatterns = [
    path("checkout/", checkout, name="checkout"),
    re_path(rf"^orders/{NUMBER}/pay/$", order_pay_page, name="order_pay"),
]
