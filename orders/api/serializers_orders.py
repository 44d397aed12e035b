"""Shapes of the orders API (list, detail with timeline, cancel); money leaves as strings.

Output serializers read only prefetched data (``orders.selectors``), so a
page of orders costs the same few queries whatever its size.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders import lifecycle, selectors
from orders.models import Order, OrderItem, Refund, RefundLine

S = Order.Status
ZERO = Decimal("0.00")


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


class OrderDiscountSerializer(serializers.Serializer):
    source = serializers.CharField(
        help_text=_(
            '"promotion", "coupon", "points", or "shipping" (a free-shipping promotion; '
            "amount is the fee it waived, not part of discount_total)."
        )
    )
    code = serializers.CharField(help_text=_("The promotion code, the coupon code or points."))
    label = serializers.CharField(help_text=_("The promotion's name, the coupon, the points."))
    amount = money()
    points = serializers.IntegerField(help_text=_("Points spent (source points), else 0."))
    status = serializers.CharField(help_text=_('"active", or "returned" by a cancellation.'))


class OrderPointsSerializer(serializers.Serializer):
    spent = serializers.IntegerField()
    spent_value = money(help_text=_("What the spent points took off the order."))
    earned = serializers.IntegerField(help_text=_("Earned when the order was completed."))
    reversed = serializers.IntegerField(help_text=_("Earned points taken back by refunds."))
    returned = serializers.IntegerField(help_text=_("Spent points given back (cancel, refund)."))


class OrderSavingsSerializer(serializers.Serializer):
    discounts = OrderDiscountSerializer(many=True)
    points = OrderPointsSerializer()


def order_savings_data(order: Order) -> dict:
    """What ``selectors.order_savings_attach`` put on the order, as plain data."""
    savings = getattr(order, "savings", None)
    rows = list(getattr(savings, "discounts", ()))
    value = sum((r.amount for r in rows if r.source == "points" and r.status == "active"), ZERO)
    return {
        "discounts": [
            {
                "source": r.source,
                "code": r.code,
                "label": r.label,
                "amount": r.amount,
                "points": r.points,
                "status": r.status,
            }
            for r in rows
        ],
        "points": {
            "spent": getattr(savings, "points_spent", 0),
            "spent_value": value,
            "earned": getattr(savings, "points_earned", 0),
            "reversed": getattr(savings, "points_reversed", 0),
            "returned": getattr(savings, "points_returned", 0),
        },
    }


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
    savings = serializers.SerializerMethodField(
        help_text=_("Discounts by source (promotions, coupon, points, free shipping) and points.")
    )

    class Meta:
        model = Order
        fields = [*ORDER_FIELDS, "items", "savings"]
        read_only_fields = fields

    def get_item_count(self, order: Order) -> int:
        return sum(item.quantity for item in order.items.all())

    @extend_schema_field(OrderSavingsSerializer)
    def get_savings(self, order: Order) -> dict:
        return OrderSavingsSerializer(order_savings_data(order)).data


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
            "savings",
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
