"""Shapes of the orders API (list, detail with timeline, cancel); money leaves as strings.

Output serializers read only prefetched data (``orders.selectors``), so a
page of orders costs the same few queries whatever its size.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders import lifecycle, selectors
from orders.models import Order, OrderItem, Refund, RefundLine

S = Order.Status


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


class OrderQuerySerializer(serializers.Serializer):
    """Query parameters of GET /api/v1/orders/."""

    status = serializers.ChoiceField(choices=S.choices, required=False)
    date_from = serializers.DateField(
        required=False, help_text=_("Placed on or after this day (shop time zone).")
    )
    date_to = serializers.DateField(
        required=False, help_text=_("Placed on or before this day (shop time zone).")
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=selectors.MAX_QUERY_LENGTH,
        help_text=_("Order number, product name or SKU (part of it)."),
    )

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"date_to": [_("The end date must not be before the start.")]}
            )
        return attrs


class OrderItemSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    unit_price = money()
    line_total = money()
    discount = money()
    paid_amount = money(help_text=_("line_total - discount: what the member paid for the line."))
    refunded_amount = money()

    class Meta:
        model = OrderItem
        fields = [
            "id",
            "product",
            "product_name",
            "sku",
            "unit_price",
            "quantity",
            "line_total",
            "discount",
            "paid_amount",
            "refunded_quantity",
            "refunded_amount",
        ]
        read_only_fields = fields


class OrderItemDetailSerializer(OrderItemSerializer):
    review_id = serializers.SerializerMethodField()

    class Meta(OrderItemSerializer.Meta):
        fields = [*OrderItemSerializer.Meta.fields, "review_id"]
        read_only_fields = fields

    def get_review_id(self, item: OrderItem) -> int | None:
        review = getattr(item, "review", None)  # select_related: no query
        return review.pk if review else None


class TimelineEntrySerializer(serializers.Serializer):
    from_status = serializers.CharField(
        help_text=_("An order status (like `status`); empty for the first entry.")
    )
    to_status = serializers.CharField(help_text=_("An order status (like `status`)."))
    to_label = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.ChoiceField(choices=["member", "staff", "system"])
    note = serializers.CharField()


class RefundLineSerializer(serializers.ModelSerializer):
    amount = money()

    class Meta:
        model = RefundLine
        fields = ["item", "quantity", "amount"]
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    amount = money()
    lines = RefundLineSerializer(many=True, read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "amount", "reason", "created_at", "lines"]
        read_only_fields = fields


ORDER_FIELDS = [
    "id",
    "number",
    "status",
    "status_label",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_fee",
    "total",
    "refunded_total",
    "placed_at",
    "payment_due_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
    "refunded_at",
    "item_count",
]


class OrderListSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    subtotal = money()
    discount_total = money()
    shipping_fee = money()
    total = money()
    refunded_total = money()
    item_count = serializers.SerializerMethodField(help_text=_("Units across all lines."))
    items = OrderItemSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [*ORDER_FIELDS, "items"]
        read_only_fields = fields

    def get_item_count(self, order: Order) -> int:
        return sum(item.quantity for item in order.items.all())


class ShippingAddressSerializer(serializers.Serializer):
    recipient_name = serializers.CharField()
    phone = serializers.CharField()
    country = serializers.CharField()
    province = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    postal_code = serializers.CharField()


class OrderActionsSerializer(serializers.Serializer):
    can_pay = serializers.BooleanField()
    can_cancel = serializers.BooleanField()
    can_confirm = serializers.BooleanField()


class OrderDetailSerializer(OrderListSerializer):
    items = OrderItemDetailSerializer(many=True, read_only=True)
    shipping_address = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    refunds = RefundSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta(OrderListSerializer.Meta):
        fields = [
            *ORDER_FIELDS,
            "note",
            "tracking_number",
            "shipping_address",
            "items",
            "timeline",
            "refunds",
            "actions",
        ]
        read_only_fields = fields

    @extend_schema_field(ShippingAddressSerializer)
    def get_shipping_address(self, order: Order) -> dict:
        return {name: getattr(order, name) for name in ShippingAddressSerializer().fields}

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, order: Order) -> list:
        return TimelineEntrySerializer(selectors.order_timeline(order), many=True).data

    @extend_schema_field(OrderActionsSerializer)
    def get_actions(self, order: Order) -> dict:
        return {
            "can_pay": order.status == S.PENDING_PAYMENT,
            "can_cancel": order.status in lifecycle.CANCELLABLE,
            "can_confirm": order.status == S.DELIVERED,
        }


class OrderCancelSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text=_("Why the order is cancelled (optional)."),
    )
