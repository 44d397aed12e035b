"""Loyalty API (members only, token or session auth).

GET  me/points/              balance, expiring soon, the latest entries
GET  me/points/history/      the whole ledger, paginated
GET  me/coupons/             the coupon wallet (?status=usable|used|expired|not_yet_valid)
POST coupons/claim/          {code}: a public code or a single-use code into the wallet
GET  points/exchange/items/  the exchange catalogue (积分兑换)
POST points/exchange/        {item} + header Idempotency-Key: exchange points
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.errors import DomainError
from promotions import selectors, services
from promotions.api import serializers as s
from promotions.models import PointsEntry

CONFLICT = OpenApiResponse(description=_("Conflict: {code, message, detail}"))
STATUSES = ("usable", "not_yet_valid", "used", "expired")


class InvalidStatus(DomainError):
    code = "invalid_status"
    message = _("Unknown coupon status.")


class PointsView(APIView):
    @extend_schema(
        tags=["loyalty"],
        summary="My points",
        responses={200: s.PointsSummarySerializer},
        description="The balance (the sum of the ledger), what it is worth at checkout, the "
        "points expiring soon and the latest 20 entries with their reasons and orders.",
    )
    def get(self, request):
        user = request.user
        balance = selectors.points_balance(user=user)
        days = settings.PROMOTIONS_POINTS_EXPIRING_SOON_DAYS
        expiring, first = selectors.points_expiring(user=user, days=days)
        body = {
            "balance": balance,
            "value": services.points_to_money(balance),
            "points_per_unit": services.points_value(),
            "max_share": Decimal(str(settings.PROMOTIONS_POINTS_MAX_SHARE)),
            "expiring_soon": expiring,
            "expiring_within_days": days,
            "next_expiry": first,
            "recent": list(selectors.points_history(user=user)[:20]),
        }
        return Response(s.PointsSummarySerializer(body).data)


class PointsHistoryView(ListAPIView):
    serializer_class = s.PointsEntrySerializer

    @extend_schema(tags=["loyalty"], summary="My points ledger (newest first)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return PointsEntry.objects.none()
        return selectors.points_history(user=self.request.user)


class CouponsView(APIView):
    @extend_schema(
        tags=["loyalty"],
        summary="My coupon wallet",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(STATUSES), required=False)
        ],
        responses={200: s.WalletCouponSerializer(many=True)},
        description="Usable coupons first (soonest expiry first), then not yet valid, used "
        "and expired ones. 400 `invalid_status` for an unknown status filter.",
    )
    def get(self, request):
        wanted = request.query_params.get("status") or ""
        if wanted and wanted not in STATUSES:
            raise InvalidStatus(detail={"status": wanted[:20], "allowed": list(STATUSES)})
        rows = [r for r in selectors.wallet(user=request.user) if not wanted or r.status == wanted]
        return Response(
            s.WalletCouponSerializer(
                [s.WalletCouponSerializer.represent(r) for r in rows], many=True
            ).data
        )


class ClaimView(APIView):
    @extend_schema(
        tags=["loyalty"],
        summary="Claim a coupon into my wallet",
        request=s.ClaimSerializer,
        responses={201: s.ClaimedSerializer, 409: CONFLICT},
        description="A campaign's public code adds one of its coupons to the wallet (up to "
        "the campaign's per-member limit); an unclaimed single-use code moves into the "
        "wallet. 400 `coupon_unknown`, `coupon_expired`, `coupon_not_yet_valid`, "
        "`coupon_not_eligible`, `coupon_not_yours`; 409 `coupon_claim_limit`, `coupon_used`, "
        "`coupon_sold_out`, `coupon_member_limit`.",
    )
    def post(self, request):
        serializer = s.ClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = services.coupon_claim(user=request.user, code=serializer.validated_data["code"])
        return Response(s.ClaimedSerializer(coupon).data, status=status.HTTP_201_CREATED)


class ExchangeItemsView(ListAPIView):
    serializer_class = s.ExchangeItemSerializer
    pagination_class = None

    @extend_schema(tags=["loyalty"], summary="The points exchange catalogue")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.exchange_catalogue()


class ExchangeView(APIView):
    @extend_schema(
        tags=["loyalty"],
        summary="Exchange points for an item",
        request=s.ExchangeRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Recommended: repeating a request with the same key returns the "
                "first exchange (200) instead of exchanging again.",
            )
        ],
        responses={201: s.ExchangeSerializer, 200: s.ExchangeSerializer, 409: CONFLICT},
        description="A coupon item puts a coupon in the wallet (`coupon_code`); a gift is "
        "shipped by the shop to the member's default address (`status` to_ship). 404 "
        "`exchange_item_not_found`; 409 `exchange_sold_out`, `exchange_limit`, "
        "`points_insufficient`; 400 `address_required`, `invalid_idempotency_key`.",
    )
    def post(self, request):
        serializer = s.ExchangeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exchange = services.points_exchange(
            user=request.user,
            item_id=serializer.validated_data["item"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        code = status.HTTP_200_OK if exchange.replayed else status.HTTP_201_CREATED
        exchange = (
            selectors.exchanges_of(user=request.user).select_related("coupon").get(pk=exchange.pk)
        )
        return Response(s.ExchangeSerializer(exchange).data, status=code)
