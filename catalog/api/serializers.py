"""Catalogue API serializers: output shapes and the product-list query."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Brand, Category, Product
from catalog.selectors import Ordering

MAX_PRICE = Decimal("9999999999.99")

# API ordering value -> selector ordering.
API_ORDERINGS = {
    "relevance": Ordering.RELEVANCE,
    "newest": Ordering.NEWEST,
    "price": Ordering.PRICE_ASC,
    "-price": Ordering.PRICE_DESC,
    "name": Ordering.NAME,
}


LOCALIZED_HELP = _(
    "In the request's language (Accept-Language): the Simplified-Chinese text for zh-hans "
    "when the merchant gave one, else the English text."
)
EN_HELP = _("The English text, whatever the request's language.")
ZH_HELP = _("The Simplified-Chinese text as stored; empty when the merchant gave none.")


def localized_name() -> serializers.CharField:
    return serializers.CharField(source="display_name", read_only=True, help_text=LOCALIZED_HELP)


def english(field: str) -> serializers.CharField:
    return serializers.CharField(source=field, read_only=True, help_text=EN_HELP)


def chinese() -> serializers.CharField:
    # Declared under its own name (``name_zh_hans``, ``description_zh_hans``).
    return serializers.CharField(read_only=True, help_text=ZH_HELP)


class CategorySerializer(serializers.ModelSerializer):
    name = localized_name()
    name_en = english("name")
    name_zh_hans = chinese()
    parent = serializers.IntegerField(source="parent_id", allow_null=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "name_en", "name_zh_hans", "slug", "parent", "position"]


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug"]


class CategoryRefSerializer(serializers.ModelSerializer):
    name = localized_name()
    name_en = english("name")
    name_zh_hans = chinese()

    class Meta:
        model = Category
        fields = ["id", "name", "name_en", "name_zh_hans", "slug"]


class ProductListSerializer(serializers.ModelSerializer):
    name = localized_name()
    name_en = english("name")
    name_zh_hans = chinese()
    category = CategoryRefSerializer(read_only=True)
    brand = BrandSerializer(read_only=True, allow_null=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    discount_percent = serializers.IntegerField(read_only=True, allow_null=True)
    image = serializers.ImageField(read_only=True, use_url=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "name_en",
            "name_zh_hans",
            "slug",
            "url",
            "price",
            "list_price",
            "discount_percent",
            "in_stock",
            "stock",
            "category",
            "brand",
            "image",
        ]


class ProductDetailSerializer(ProductListSerializer):
    description = serializers.CharField(
        source="display_description", read_only=True, help_text=LOCALIZED_HELP
    )
    description_en = english("description")
    description_zh_hans = chinese()
    attributes = serializers.SerializerMethodField()

    class Meta(ProductListSerializer.Meta):
        fields = [
            *ProductListSerializer.Meta.fields,
            "description",
            "description_en",
            "description_zh_hans",
            "attributes",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(
        serializers.DictField(child=serializers.CharField(), help_text="Shown attributes.")
    )
    def get_attributes(self, product) -> dict:
        """Attributes as the merchant keyed them; internal keys ("_" prefix) left out."""
        attributes = product.attributes if isinstance(product.attributes, dict) else {}
        return {k: v for k, v in attributes.items() if not str(k).startswith("_")}


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class CommaSeparatedIntegers(serializers.Field):
    """``brand=1&brand=2`` or ``brand=1,2`` -> [1, 2]."""

    default_error_messages = {"invalid": _("Give brand ids as integers, e.g. brand=3,7.")}

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(self.field_name)
            return values if values else serializers.empty
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data):
        values = data if isinstance(data, list) else [data]
        ids: list[int] = []
        for value in values:
            for part in str(value).split(","):
                part = part.strip()
                if not part:
                    continue
                if not part.isdigit() or len(part) > 18:
                    self.fail("invalid")
                ids.append(int(part))
        return ids


class ProductQuerySerializer(serializers.Serializer):
    """Query parameters of GET /api/v1/products/."""

    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text=_("Search words.")
    )
    category = serializers.CharField(
        required=False,
        max_length=120,
        help_text=_("Category id or slug; products of its sub-categories are included."),
    )
    brand = CommaSeparatedIntegers(
        required=False,
        help_text=_("Brand id; repeat the parameter or give a comma-separated list."),
    )
    min_price = serializers.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_PRICE
    )
    max_price = serializers.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_PRICE
    )
    in_stock = serializers.BooleanField(
        required=False, default=False, help_text=_("Only products in stock.")
    )
    ordering = serializers.ChoiceField(
        choices=list(API_ORDERINGS),
        required=False,
        help_text=_("Default: relevance when q is given, else newest."),
    )

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"max_price": [_("max_price must not be below min_price.")]}
            )
        if attrs.get("ordering") == "relevance" and not (attrs.get("q") or "").strip():
            raise serializers.ValidationError(
                {"ordering": [_("Ordering by relevance needs a search query (q).")]}
            )
        return attrs
