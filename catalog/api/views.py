"""Public catalogue endpoints: products (list with search and filters, detail)
and the category tree."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from catalog import selectors
from catalog.api.serializers import (
    API_ORDERINGS,
    CategorySerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductQuerySerializer,
)
from config.api.errors import NotFound


class ProductListView(generics.ListAPIView):
    """Active products, searched (``q``), filtered and ordered; paginated."""

    permission_classes = [AllowAny]
    serializer_class = ProductListSerializer
    filter_backends: list = []

    @extend_schema(parameters=[ProductQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def paginate_queryset(self, queryset):
        """A member's page of search results (relevance order) is re-ranked for them."""
        page = super().paginate_queryset(queryset)
        params = self.request.query_params
        if page is None or not (params.get("q") or "").strip():
            return page
        if (params.get("ordering") or "relevance") != "relevance":
            return page
        return selectors.products_personalised(self.request.user, page)

    def get_queryset(self):
        params = ProductQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        category = None
        if data.get("category"):
            raw = data["category"].strip()
            category = None
            if raw.isdigit():
                category = selectors.category_get_active(pk=int(raw))
            category = category or selectors.category_get_active(slug=raw)
            if category is None:
                raise serializers.ValidationError({"category": [_("Unknown category.")]})
        filters = {
            "category": category,
            "brand_ids": data.get("brand") or None,
            "min_price": data.get("min_price"),
            "max_price": data.get("max_price"),
            "in_stock_only": data.get("in_stock", False),
        }
        query = (data.get("q") or "").strip()
        if query:
            ordering = API_ORDERINGS[data.get("ordering") or "relevance"]
            return selectors.product_search(query, ordering=ordering, **filters)
        ordering = API_ORDERINGS[data.get("ordering") or "newest"]
        return selectors.product_list(ordering=ordering, **filters)


class ProductDetailView(generics.RetrieveAPIView):
    """One active product; inactive or unknown products are 404."""

    permission_classes = [AllowAny]
    serializer_class = ProductDetailSerializer

    def get_object(self):
        product = selectors.product_get_active(self.kwargs["pk"])
        if product is None:
            raise NotFound()
        return product


class CategoryListView(generics.ListAPIView):
    """All active categories as a flat list with parent ids (not paginated:
    the tree is small and clients build it from ``parent``)."""

    permission_classes = [AllowAny]
    serializer_class = CategorySerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return selectors.category_list()
