from rest_framework import serializers

from catalog.api.serializers import ProductListSerializer


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()


class RecommendedItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    product = ProductListSerializer()
    reason = serializers.SerializerMethodField()
    click_url = serializers.CharField()

    def get_reason(self, item) -> dict:
        return {"code": item.reason, "text": item.reason_text}


class ServedListSerializer(serializers.Serializer):
    list_id = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(source="version_id", allow_null=True)
    context = serializers.CharField()
    items = RecommendedItemSerializer(many=True)


class ClickSerializer(serializers.Serializer):
    list_id = serializers.IntegerField(min_value=1)
    product_id = serializers.IntegerField(min_value=1)
