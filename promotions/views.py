"""Member pages: points (balance, expiring soon, history), coupon wallet (and claim),
the points exchange catalogue (积分兑换). Login required; each page shows only the
member's own rows. Views parse the form, call one service or selector and render
evaluated lists (no query per row)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from config.api.errors import DomainError
from promotions import selectors, services

PAGE_SIZE = 20


class ClaimForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Coupon code"),
        max_length=40,
        error_messages={"required": gettext_lazy("Enter a coupon code.")},
    )


class ExchangeForm(forms.Form):
    item = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    idempotency_key = forms.CharField(max_length=64, required=False)


@login_required
@require_GET
def points(request: HttpRequest) -> HttpResponse:
    user = request.user
    balance = selectors.points_balance(user=user)
    days = settings.PROMOTIONS_POINTS_EXPIRING_SOON_DAYS
    expiring, first = selectors.points_expiring(user=user, days=days)
    page = Paginator(selectors.points_history(user=user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "promotions/points.html",
        {
            "active_menu": "points",
            "balance": balance,
            "value": services.points_to_money(balance),
            "points_per_unit": services.points_value(),
            "max_share": (Decimal(str(settings.PROMOTIONS_POINTS_MAX_SHARE)) * 100).normalize(),
            "expiring": expiring,
            "expiring_first": first,
            "expiring_days": days,
            "page": page,
            "entries": list(page.object_list),
        },
    )


@login_required
@require_GET
def coupons(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "promotions/coupons.html",
        {
            "active_menu": "coupons",
            "rows": selectors.wallet(user=request.user),
            "form": ClaimForm(),
        },
    )


@login_required
@require_POST
def coupon_claim(request: HttpRequest) -> HttpResponse:
    form = ClaimForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["code"][0])
        return redirect("promotions:coupons")
    try:
        coupon = services.coupon_claim(user=request.user, code=form.cleaned_data["code"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("promotions:coupons")
    messages.success(
        request,
        _("“%(name)s” is in your wallet (code %(code)s).")
        % {"name": coupon.campaign.display_name, "code": coupon.code},
    )
    return redirect("promotions:coupons")


@login_required
def exchange(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ExchangeForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose an item to exchange."))
            return redirect("promotions:exchange")
        try:
            done = services.points_exchange(
                user=request.user,
                item_id=form.cleaned_data["item"],
                idempotency_key=form.cleaned_data["idempotency_key"] or None,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("promotions:exchange")
        if not done.replayed:
            if done.coupon_id:
                messages.success(
                    request,
                    _("Exchanged: the coupon %(code)s is in your wallet.")
                    % {"code": done.coupon.code},
                )
            else:
                messages.success(
                    request,
                    _("Exchanged: we will ship your gift to %(address)s.")
                    % {"address": done.ship_to},
                )
        return redirect("promotions:exchange")
    return render(
        request,
        "promotions/exchange.html",
        {
            "active_menu": "exchange",
            "items": list(selectors.exchange_catalogue()),
            "balance": selectors.points_balance(user=request.user),
            "exchanges": list(selectors.exchanges_of(user=request.user)[:10]),
            "idempotency_key": secrets.token_urlsafe(24),
        },
    )


urlpatterns = [
    path("account/points/", points, name="points"),
    path("account/coupons/", coupons, name="coupons"),
    path("account/coupons/claim/", coupon_claim, name="coupon_claim"),
    path("account/points/exchange/", exchange, name="exchange"),
]
