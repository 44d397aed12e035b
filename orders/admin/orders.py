"""Admin: orders, status timeline, payments and refunds; carts (read-only).

Staff never edit statuses or money by hand: the status moves only through
the actions below, which call ``orders.services`` / ``orders.refunds`` one
order at a time and report each refusal as a message (not an error page).
Only the shipping address snapshot, the tracking number and the note stay
editable, for fixing a typo before shipping.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.money import format_money
from config.api.errors import DomainError
from orders import refunds, selectors, services
from orders.checkout import ADDRESS_SNAPSHOT_FIELDS
from orders.models import (
    Cart,
    CartItem,
    Order,
    OrderItem,
    OrderStatusChange,
    Payment,
    Refund,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = [
        "product",
        "product_name",
        "sku",
        "unit_price",
        "quantity",
        "line_total",
        "discount",
        "refunded_quantity",
        "refunded_amount",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class StatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    verbose_name_plural = _("timeline")
    fields = ["created_at", "from_status", "to_status", "changed_by", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["created_at", "provider", "amount", "status", "reference", "message"]
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "amount", "reason", "created_by", "provider_reference"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


def _run_per_order(modeladmin, request, queryset, service, done_message) -> None:
    """Call ``service(order)`` for each selected order; refusals become error messages."""
    done = 0
    for order in queryset.select_related(None).order_by("pk").only("pk", "number"):
        try:
            service(order)
        except DomainError as exc:
            modeladmin.message_user(
                request,
                _("Order %(number)s: %(reason)s") % {"number": order.number, "reason": exc.message},
                messages.ERROR,
            )
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message(done), messages.SUCCESS)


SAVINGS_SOURCES = {
    "promotion": _("Promotion"),
    "coupon": _("Coupon"),
    "points": _("Points"),
    "shipping": _("Free shipping"),
}


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "user",
        "status",
        "total",
        "refunded_total",
        "placed_at",
        "source",
    ]
    list_filter = ["status", "placed_at", "source"]
    search_fields = ["number", "user__email", "items__sku", "items__product_name"]
    date_hierarchy = "placed_at"
    list_select_related = ["user"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [OrderItemInline, StatusChangeInline, PaymentInline, RefundInline]
    actions = ["mark_shipped", "mark_delivered", "cancel_orders", "refund_orders"]
    editable_fields = [
        *ADDRESS_SNAPSHOT_FIELDS,
        "tracking_number",
        "note",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["number", "user", "status", "source", "external_id", "tracking_number"]},
        ),
        (
            _("Money"),
            {
                "fields": [
                    "currency",
                    "subtotal",
                    "discount_total",
                    "shipping_fee",
                    "total",
                    "refunded_total",
                    "savings",
                ]
            },
        ),
        (
            _("Shipping address"),
            {
                "fields": [
                    "recipient_name",
                    "phone",
                    "country",
                    "province",
                    "city",
                    "district",
                    "line1",
                    "line2",
                    "postal_code",
                    "note",
                ]
            },
        ),
        (
            _("Dates"),
            {
                "fields": [
                    "placed_at",
                    "payment_due_at",
                    "paid_at",
                    "shipped_at",
                    "delivered_at",
                    "completed_at",
                    "cancelled_at",
                    "refunded_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        shown = [name for _title, options in self.fieldsets for name in options["fields"]]
        return [name for name in shown if name not in self.editable_fields]

    @admin.display(description=_("Discounts and points"))
    def savings(self, obj: Order) -> str:
        """The discounts by source and the points of the order (``ORDER_SAVINGS_PROVIDER``)."""
        if obj is None or obj.pk is None:
            return "-"
        savings = selectors.order_savings_attach([obj])[0].savings
        if savings is None:
            return "-"
        rows = [
            (
                f"{SAVINGS_SOURCES.get(row.source, row.source)} {row.label}",
                f"−{format_money(row.amount, obj.currency)}"
                + (f" ({row.points})" if row.points else "")
                + (f" [{_('returned')}]" if row.status == "returned" else ""),
            )
            for row in savings.discounts
        ]
        points = [
            (_("Points spent"), savings.points_spent),
            (_("Points given back"), savings.points_returned),
            (_("Points earned"), savings.points_earned),
            (_("Points taken back by refunds"), savings.points_reversed),
        ]
        rows += [(label, str(value)) for label, value in points if value]
        if not rows:
            return "-"
        return format_html_join(mark_safe("<br>"), "{}: {}", rows)

    def has_add_permission(self, request) -> bool:
        return False  # orders come from checkout, imports and the demo data

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # orders are records: cancel or refund them instead

    @admin.action(description=_("Mark as shipped"), permissions=["change"])
    def mark_shipped(self, request, queryset):
        _run_per_order(
            self,
            request,
            queryset,
            lambda order: services.order_ship(order_id=order.pk, by=request.user),
            lambda n: (
                ngettext(
                    "%(count)d order marked as shipped.", "%(count)d orders marked as shipped.", n
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Mark as delivered"), permissions=["change"])
    def mark_delivered(self, request, queryset):
        _run_per_order(
            self,
            request,
            queryset,
            lambda order: services.order_deliver(order_id=order.pk, by=request.user),
            lambda n: (
                ngettext(
                    "%(count)d order marked as delivered.",
                    "%(count)d orders marked as delivered.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Cancel (refunds paid orders)"), permissions=["change"])
    def cancel_orders(self, request, queryset):
        _run_per_order(
            self,
            request,
            queryset,
            lambda order: services.order_cancel(
                order_id=order.pk,
                by=request.user,
                note=services.NOTE_CANCELLED_BY_STAFF,
                as_staff=True,
            ),
            lambda n: (
                ngettext("%(count)d order cancelled.", "%(count)d orders cancelled.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=_("Refund the whole order"), permissions=["change"])
    def refund_orders(self, request, queryset):
        _run_per_order(
            self,
            request,
            queryset,
            lambda order: refunds.order_refund(
                order_id=order.pk, by=request.user, reason=services.NOTE_REFUNDED_BY_STAFF
            ),
            lambda n: (
                ngettext("%(count)d order refunded.", "%(count)d orders refunded.", n)
                % {"count": n}
            ),
        )


class CartItemInline(ReadOnlyInline):
    model = CartItem
    fields = ["product", "quantity", "added_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Read-only: carts belong to their members and visitors."""

    list_display = ["__str__", "user", "visitor_key", "line_count", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "visitor_key"]
    date_hierarchy = "updated_at"
    inlines = [CartItemInline]
    fields = ["user", "visitor_key", "created_at", "updated_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_line_count=Count("items"))

    @admin.display(description=_("lines"), ordering="_line_count")
    def line_count(self, cart: Cart) -> int:
        return cart._line_count

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
