"""Serializers of the membership API (money as strings)."""

from rest_framework import serializers

from membership.models import Tier, TierChange


class TierSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    description = serializers.CharField(source="display_description")

    class Meta:
        model = Tier
        fields = [
            "code",
            "name",
            "rank",
            "min_spend",
            "min_orders",
            "qualify_rule",
            "points_multiplier",
            "discount_percent",
            "free_shipping_threshold",
            "exclusive_promotions",
            "priority_service",
            "description",
        ]


class TierChangeSerializer(serializers.ModelSerializer):
    from_tier = serializers.CharField(source="from_tier.code", default=None)
    to_tier = serializers.CharField(source="to_tier.code")

    class Meta:
        model = TierChange
        fields = ["from_tier", "to_tier", "reason", "created_at"]


class InterestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["category", "brand"])
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    hidden = serializers.BooleanField(default=True)
