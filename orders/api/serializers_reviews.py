"""Input and output shapes of the reviews API; writes go through orders.reviews."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from orders import reviews
from orders.models import Review

MAX_ID = 2**63 - 1


class ReviewImageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, image) -> str:
        url = image.image.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ReviewCreateSerializer(serializers.Serializer):
    item = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("Id of one of your delivered order lines.")
    )
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(
        max_length=reviews.TITLE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    body = serializers.CharField(
        max_length=reviews.BODY_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    images = serializers.ListField(
        child=serializers.ImageField(),
        max_length=reviews.MAX_IMAGES,
        required=False,
        default=list,
        help_text=_("Up to 5 images of at most 2 MB each (multipart/form-data only)."),
    )


class ReviewUpdateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    title = serializers.CharField(
        max_length=reviews.TITLE_MAX_LENGTH, required=False, allow_blank=True
    )
    body = serializers.CharField(
        max_length=reviews.BODY_MAX_LENGTH, required=False, allow_blank=True
    )
    images = serializers.ListField(
        child=serializers.ImageField(),
        max_length=reviews.MAX_IMAGES,
        required=False,
        default=list,
        help_text=_("Images to add (multipart/form-data only); at most 5 in all."),
    )
    remove_images = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=reviews.MAX_IMAGES,
        required=False,
        default=list,
        help_text=_("Ids of this review's images to remove."),
    )


class ReviewSerializer(serializers.ModelSerializer):
    """The member's own review."""

    order_number = serializers.CharField(source="item.order.number", read_only=True)
    product_name = serializers.CharField(source="item.product_name", read_only=True)
    images = ReviewImageSerializer(many=True, read_only=True)
    editable_until = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "item",
            "order_number",
            "product",
            "product_name",
            "rating",
            "title",
            "body",
            "images",
            "is_hidden",
            "created_at",
            "updated_at",
            "editable_until",
        ]
        read_only_fields = fields

    def get_editable_until(self, review) -> str:
        return serializers.DateTimeField().to_representation(reviews.review_edit_deadline(review))


class PublicReviewSerializer(serializers.Serializer):
    """A visible review as shoppers see it: the author's name masked."""

    id = serializers.IntegerField(read_only=True)
    author = serializers.CharField(read_only=True, help_text=_('Masked name, e.g. "L***".'))
    rating = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    images = ReviewImageSerializer(many=True, read_only=True, source="images.all")
    created_at = serializers.DateTimeField(read_only=True)


class RatingSummarySerializer(serializers.Serializer):
    average = serializers.DecimalField(
        max_digits=2, decimal_places=1, allow_null=True, read_only=True
    )
    count = serializers.IntegerField(read_only=True)
    histogram = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text=_('Number of visible reviews per star rating, "1" to "5".'),
    )

    def to_representation(self, summary):
        return {
            "average": None if summary.average is None else str(summary.average),
            "count": summary.count,
            "histogram": {str(stars): n for stars, n in sorted(summary.histogram.items())},
        }


class ProductReviewsQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=50, required=False, default=10)


class ProductReviewsPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    summary = RatingSummarySerializer()
    results = PublicReviewSerializer(many=True)
