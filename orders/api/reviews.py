"""API: reviews. Write and edit your own reviews; read a product's visible reviews.

``POST reviews/`` and ``PATCH reviews/{id}/`` take JSON, or multipart/form-data
when images are attached. Errors leave through config.api.errors as
``{"code", "message", "detail"}``.
"""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from browsing.models import Event
from catalog.selectors import product_get_active
from config.api.errors import NotFound
from orders import reviews
from orders.api import serializers_reviews as s
from orders.models import Review

ERRORS = {
    400: OpenApiResponse(description=_("Invalid input: {code, message, detail}")),
    401: OpenApiResponse(description=_("Not authenticated")),
    404: OpenApiResponse(description=_("Not found")),
    409: OpenApiResponse(description=_("Already reviewed, or the edit window has closed")),
}
PARSERS = [JSONParser, MultiPartParser, FormParser]


class ProductNotFound(NotFound):
    message = _("Product not found.")


def _own_review_response(request, review_id: int, *, status_code: int = 200) -> Response:
    review = reviews.review_get_for_user(user=request.user, review_id=review_id)
    return Response(s.ReviewSerializer(review, context={"request": request}).data, status_code)


class ReviewCreateView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        tags=["reviews"],
        summary="Review one of your delivered order lines",
        request={
            "application/json": s.ReviewCreateSerializer,
            "multipart/form-data": s.ReviewCreateSerializer,
        },
        responses={
            201: s.ReviewSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            404: ERRORS[404],
            409: ERRORS[409],
        },
        description="Once per order line, after its order is delivered or completed. "
        "`rating` 1-5, `title` <= 120 and `body` <= 2000 characters, up to 5 `images` "
        "(multipart) of <= 2 MB. Another member's or an unknown `item` is 404; a second "
        "review of the same line is 409 `review_exists`.",
    )
    def post(self, request):
        serializer = s.ReviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        review = reviews.review_create(
            user=request.user,
            item_id=data["item"],
            rating=data["rating"],
            title=data["title"],
            body=data["body"],
            images=data["images"],
            source=Event.Source.API,
        )
        return _own_review_response(request, review.pk, status_code=status.HTTP_201_CREATED)


class ReviewDetailView(APIView):
    parser_classes = PARSERS

    @extend_schema(
        tags=["reviews"],
        summary="One of your reviews",
        responses={200: s.ReviewSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def get(self, request, pk: int):
        return _own_review_response(request, pk)

    @extend_schema(
        tags=["reviews"],
        summary="Edit one of your reviews",
        request={
            "application/json": s.ReviewUpdateSerializer,
            "multipart/form-data": s.ReviewUpdateSerializer,
        },
        responses={
            200: s.ReviewSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            404: ERRORS[404],
            409: ERRORS[409],
        },
        description="Fields not sent keep their values. `images` are added, "
        "`remove_images` (ids) removed; at most 5 in all. Only within the edit window "
        "(`editable_until`), else 409 `review_edit_closed`.",
    )
    def patch(self, request, pk: int):
        serializer = s.ReviewUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        fields = {name: data[name] for name in ("rating", "title", "body") if name in data}
        reviews.review_update(
            user=request.user,
            review_id=pk,
            add_images=data.get("images") or [],
            remove_image_ids=data.get("remove_images") or [],
            source=Event.Source.API,
            **fields,
        )
        return _own_review_response(request, pk)


class MyReviewsView(generics.ListAPIView):
    serializer_class = s.ReviewSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Review.objects.none()
        return reviews.reviews_for_user(self.request.user)

    @extend_schema(
        tags=["me"],
        summary="My reviews",
        description="Newest first, hidden ones included (`is_hidden`).",
        responses={200: s.ReviewSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProductReviewsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["catalogue"],
        summary="A product's reviews and rating summary",
        parameters=[
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter("page_size", int, description="Reviews per page, 1-50 (10)."),
        ],
        responses={200: s.ProductReviewsPageSerializer, 400: ERRORS[400], 404: ERRORS[404]},
        description="Visible reviews only, newest first, authors' names masked. `summary` "
        "holds the average rating (one decimal, a string), the count and the number of "
        "reviews per star.",
    )
    def get(self, request, pk: int):
        query = s.ProductReviewsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page, page_size = query.validated_data["page"], query.validated_data["page_size"]
        product = product_get_active(pk)
        if product is None:
            raise ProductNotFound()
        summary = reviews.product_rating_summary(product.pk)
        pages = max(1, -(-summary.count // page_size))
        if page > pages:
            raise Http404(_("Invalid page."))
        results = (
            reviews.product_reviews(product.pk, page, per_page=page_size) if summary.count else []
        )
        url = request.build_absolute_uri()
        previous = None
        if page > 1:
            previous = (
                replace_query_param(url, "page", page - 1)
                if page > 2
                else remove_query_param(url, "page")
            )
        body = {
            "count": summary.count,
            "next": replace_query_param(url, "page", page + 1) if page < pages else None,
            "previous": previous,
            "summary": s.RatingSummarySerializer(summary).data,
            "results": s.PublicReviewSerializer(
                results, many=True, context={"request": request}
            ).data,
        }
        return Response(body)


urlpatterns = [
    path("reviews/", ReviewCreateView.as_view(), name="review-create"),
    path("reviews/<int:pk>/", ReviewDetailView.as_view(), name="review-detail"),
    path("me/reviews/", MyReviewsView.as_view(), name="my-reviews"),
    path("products/<int:pk>/reviews/", ProductReviewsView.as_view(), name="product-reviews"),
]
