"""API: the member's recommendations, a product's similar and bought-together items,
and click logging for app clients."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import NotFound
from recommend import serving, tracking
from recommend.api.serializers import ClickSerializer, ServedListSerializer

K_PARAM = OpenApiParameter("k", int, description="items, 1 to 100 (default 10)")


class RecommendationsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("context", str, enum=list(serving.CONTEXTS), description="home, cart"),
            K_PARAM,
        ],
        responses=ServedListSerializer,
    )
    def get(self, request):
        served = serving.recommendations_for(
            user=request.user,
            context=request.query_params.get("context", "home"),
            k=request.query_params.get("k"),
        )
        return Response(ServedListSerializer(served, context={"request": request}).data)


class _ItemListView(APIView):
    permission_classes = [AllowAny]
    kind = "similar"

    @extend_schema(parameters=[K_PARAM], responses=ServedListSerializer)
    def get(self, request, pk: int):
        if not serving.product_is_active(pk):
            raise NotFound(code="product_not_found")
        served = serving.item_list(
            product_id=pk, kind=self.kind, k=request.query_params.get("k"), user=request.user
        )
        return Response(ServedListSerializer(served, context={"request": request}).data)


class SimilarView(_ItemListView):
    kind = "similar"


class BoughtTogetherView(_ItemListView):
    kind = "bought"


class ClickView(APIView):
    """Record a tap on a recommended item (the app's equivalent of the click link)."""

    permission_classes = [AllowAny]

    @extend_schema(request=ClickSerializer, responses={204: None})
    def post(self, request):
        serializer = ClickSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not tracking.click_record(
            list_id=serializer.validated_data["list_id"],
            product_id=serializer.validated_data["product_id"],
            user=request.user,
        ):
            raise NotFound(code="list_item_not_found")
        return Response(status=204)
