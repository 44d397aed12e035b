"""API: the member's orders — list (filters, search, pages), detail with timeline, cancel, confirm.

Another member's order, or an id that is no order, is a 404; a move the
order's status does not allow is a 409 ``transition_not_allowed``; bad
filters are a 400 with the field errors. Paying is ``POST orders/{id}/pay/``
(orders.api.cart).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import selectors, services
from orders.api import serializers_orders as s
from orders.models import Order

ERRORS = {
    400: OpenApiResponse(description="Invalid input: {code, message, detail}"),
    401: OpenApiResponse(description="Not authenticated"),
    404: OpenApiResponse(description="No such order of yours (or a page past the end)"),
    409: OpenApiResponse(
        description="`transition_not_allowed`: the order's status does not allow this now "
        "(`detail.status`)."
    ),
}


def _detail_response(request, order_id: int) -> Response:
    order = selectors.order_get_for_user(user=request.user, order_id=order_id)
    return Response(s.OrderDetailSerializer(order, context={"request": request}).data)


class OrderListView(generics.ListAPIView):
    serializer_class = s.OrderListSerializer
    filter_backends: list = []

    @extend_schema(
        tags=["orders"],
        summary="My orders",
        description="Newest first, with their lines. `q` matches the order number or a line's "
        "product name or SKU; dates are inclusive days in the shop's time zone.",
        parameters=[s.OrderQuerySerializer],
        responses={200: s.OrderListSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return selectors.order_savings_attach(page) if page is not None else None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Order.objects.none()
        params = s.OrderQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.order_list_for_user(user=self.request.user, **params.validated_data)


class OrderDetailView(APIView):
    @extend_schema(
        tags=["orders"],
        summary="One of my orders",
        description="Lines, totals, shipping address, the status timeline (who: member, staff "
        "or system), refunds and the actions the status allows.",
        responses={200: s.OrderDetailSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def get(self, request, pk: int):
        return _detail_response(request, pk)


class OrderCancelView(APIView):
    @extend_schema(
        tags=["orders"],
        summary="Cancel my order",
        description="Allowed before shipping (pending payment or paid). Stock is restored; a "
        "paid order is refunded in full. Answers with the order.",
        request=s.OrderCancelSerializer,
        responses={
            200: s.OrderDetailSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    def post(self, request, pk: int):
        params = s.OrderCancelSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        order = services.order_cancel(
            order_id=pk, by=request.user, note=params.validated_data.get("note", "")
        )
        return _detail_response(request, order.pk)


class OrderConfirmView(APIView):
    @extend_schema(
        tags=["orders"],
        summary="Confirm receipt of my delivered order",
        description="delivered → completed. Answers with the order.",
        request=None,
        responses={
            200: s.OrderDetailSerializer,
            401: ERRORS[401],
            404: ERRORS[404],
            409: ERRORS[409],
        },
    )
    def post(self, request, pk: int):
        order = services.order_confirm_receipt(order_id=pk, user=request.user)
        return _detail_response(request, order.pk)


urlpatterns = [
    path("orders/", OrderListView.as_view(), name="order-list"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order-detail"),
    path("orders/<int:pk>/cancel/", OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<int:pk>/confirm/", OrderConfirmView.as_view(), name="order-confirm"),
]
