"""API shapes of points, coupons and the points exchange (money as strings)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from promotions.models import Coupon, CouponCampaign, ExchangeItem, PointsEntry, PointsExchange


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


class PointsEntrySerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", default=None, read_only=True)
    reason = serializers.CharField(source="display_reason", read_only=True)

    class Meta:
        model = PointsEntry
        fields = [
            "id",
            "kind",
            "amount",
            "balance_after",
            "reason",
            "order_number",
            "expires_at",
            "created_at",
        ]


class PointsSummarySerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text=_("The sum of the member's ledger."))
    value = money(help_text=_("What the balance is worth at checkout."))
    points_per_unit = serializers.IntegerField(help_text=_("Points worth 1.00 at checkout."))
    max_share = serializers.DecimalField(
        max_digits=4, decimal_places=2, help_text=_("Largest share of an order points may pay.")
    )
    expiring_soon = serializers.IntegerField(
        help_text=_("Points that expire within expiring_within_days.")
    )
    expiring_within_days = serializers.IntegerField()
    next_expiry = serializers.DateTimeField(allow_null=True)
    recent = PointsEntrySerializer(many=True, help_text=_("The latest 20 ledger entries."))


class CampaignSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    max_discount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    min_spend = serializers.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        model = CouponCampaign
        fields = [
            "id",
            "name",
            "kind",
            "value",
            "max_discount",
            "min_spend",
            "starts_at",
            "ends_at",
            "combinable_with_promotions",
            "valid_days",
        ]


class WalletCouponSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.CharField(help_text=_("usable, not_yet_valid, used or expired."))
    campaign = CampaignSerializer()
    claimed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text=_(
            "When this coupon stops being usable: its own expiry (the campaign's valid_days "
            "after claim or issue) or the campaign's end, the earlier; null: no end."
        ),
    )

    @staticmethod
    def represent(row) -> dict:
        return {
            "code": row.coupon.code,
            "status": row.status,
            "campaign": row.campaign,
            "claimed_at": row.coupon.claimed_at,
            "expires_at": row.coupon.valid_until,
        }


class ClaimSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=40, help_text=_("A public code, or a single-use code to keep in the wallet.")
    )


class ClaimedSerializer(serializers.ModelSerializer):
    campaign = CampaignSerializer()

    class Meta:
        model = Coupon
        fields = ["code", "campaign", "claimed_at", "expires_at"]


class ExchangeItemSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    product = serializers.IntegerField(source="product_id", allow_null=True)
    campaign = CampaignSerializer(allow_null=True)

    class Meta:
        model = ExchangeItem
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "points_cost",
            "stock",
            "per_member_limit",
            "product",
            "campaign",
        ]


class ExchangeRequestSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class ExchangeSerializer(serializers.ModelSerializer):
    item = ExchangeItemSerializer()
    coupon_code = serializers.CharField(source="coupon.code", default=None, read_only=True)
    status = serializers.CharField(help_text=_("done (a coupon), to_ship or shipped (a gift)."))

    class Meta:
        model = PointsExchange
        fields = ["id", "item", "points", "status", "coupon_code", "ship_to", "created_at"]
