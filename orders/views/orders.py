"""Member pages: my orders (filters, search, pages), one order (timeline, cancel, confirm receipt).

Login required; a member sees only their own orders (another member's order
number is a 404). Views parse the request, call one selector or service and
hand the template evaluated lists, so no template loop queries the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.api.errors import DomainError
from orders import lifecycle, selectors, services
from orders.exceptions import OrderNotFound
from orders.models import Order, OrderItem, Review

PAGE_SIZE = 10
ITEMS_SHOWN_IN_LIST = 3
S = Order.Status

# --- forms ---------------------------------------------------------------------------------


class OrderFilterForm(forms.Form):
    """Status, date range and search for "My orders" (GET parameters).

    Invalid values are reported on the form and then ignored, so the page
    still lists orders instead of failing.
    """

    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All statuses")), *S.choices],
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=selectors.MAX_QUERY_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": gettext_lazy("Order number, product or SKU")}
        ),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", gettext_lazy("The end date must not be before the start."))
            cleaned.pop("date_to", None)
        return cleaned

    @property
    def in_use(self) -> bool:
        return bool(self.data) and any(self.data.get(name) for name in self.fields)

    def filters(self) -> dict:
        """Keyword arguments for ``order_list_for_user``: the valid values only."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) or None for name in self.fields}


class OrderCancelForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# --- what the templates get ------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    order: Order
    items: list[OrderItem]
    more_items: int


@dataclass(frozen=True)
class ItemRow:
    item: OrderItem
    review: Review | None
    can_review: bool


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _own_order_id_or_404(request: HttpRequest, number: str) -> int:
    try:
        return selectors.order_id_for_user(user=request.user, number=number)
    except OrderNotFound:
        raise Http404(_("Order not found."))


# --- pages -------------------------------------------------------------------------------------


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None)
    orders = selectors.order_list_for_user(user=request.user, **form.filters())
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for order in page.object_list:
        items = list(order.items.all())
        rows.append(
            OrderRow(
                order=order,
                items=items[:ITEMS_SHOWN_IN_LIST],
                more_items=max(len(items) - ITEMS_SHOWN_IN_LIST, 0),
            )
        )
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form,
            "filtered": form.in_use,
            "page": page,
            "rows": rows,
            "query_string": _query_without_page(request),
            "active_menu": "orders",
        },
    )


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = selectors.order_get_for_user(user=request.user, number=number)
    except OrderNotFound:
        raise Http404(_("Order not found."))
    reviewable = order.status in lifecycle.REVIEWABLE
    items = [
        ItemRow(
            item=item,
            review=getattr(item, "review", None),
            can_review=reviewable and item.refunded_quantity < item.quantity,
        )
        for item in order.items.all()
    ]
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "items": items,
            "timeline": selectors.order_timeline(order),
            "refunds": list(order.refunds.all()),
            "can_pay": order.status == S.PENDING_PAYMENT,
            "can_cancel": order.status in lifecycle.CANCELLABLE,
            "can_confirm": order.status == S.DELIVERED,
            "cancel_form": OrderCancelForm(),
            "active_menu": "orders",
        },
    )


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order_id = _own_order_id_or_404(request, number)
    form = OrderCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("note", [])))
        return redirect("orders:order_detail", number)
    try:
        order = services.order_cancel(
            order_id=order_id, by=request.user, note=form.cleaned_data["note"]
        )
    except DomainError as exc:
        messages.error(
            request, _("The order could not be cancelled: %(reason)s") % {"reason": exc.message}
        )
    else:
        if order.refunded_total:
            messages.success(
                request, _("Your order has been cancelled. The payment will be refunded.")
            )
        else:
            messages.success(request, _("Your order has been cancelled."))
    return redirect("orders:order_detail", number)


@login_required
@require_POST
def order_confirm(request: HttpRequest, number: str) -> HttpResponse:
    order_id = _own_order_id_or_404(request, number)
    try:
        services.order_confirm_receipt(order_id=order_id, user=request.user)
    except DomainError as exc:
        messages.error(
            request, _("Receipt could not be confirmed: %(reason)s") % {"reason": exc.message}
        )
    else:
        messages.success(request, _("Thank you! You confirmed receipt of your order."))
    return redirect("orders:order_detail", number)


# An order number has at least one digit, so words like "reviews" stay free for other pages.
NUMBER = r"(?P<number>[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*)"

urlpatterns = [
    path("orders/", order_list, name="order_list"),
    re_path(rf"^orders/{NUMBER}/$", order_detail, name="order_detail"),
    re_path(rf"^orders/{NUMBER}/cancel/$", order_cancel, name="order_cancel"),
    re_path(rf"^orders/{NUMBER}/confirm/$", order_confirm, name="order_confirm"),
]
