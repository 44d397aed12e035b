"""API: the member's cart, checkout and payment (token auth, members only).

GET    cart/                 the cart: lines, problems and the priced summary
                             (?coupon_code=&points= previews a coupon and points)
POST   cart/items/           {product, quantity} add to the cart (201, the cart)
PATCH  cart/items/{id}/      {quantity} set a line's quantity (the cart)
DELETE cart/items/{id}/      remove a line (204)
POST   checkout/             {address_id, note, coupon_code, points} + header Idempotency-Key
POST   orders/{id}/pay/      {simulate?} pay a pending order
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from browsing.models import Event
from orders import cart as carts
from orders import selectors
from orders.api import serializers_cart as s
from orders.api.serializers_orders import OrderDetailSerializer
from orders.checkout import order_place
from orders.models import Order
from orders.paying import order_pay

CONFLICT = OpenApiResponse(
    description=_("Conflict with the current state (stock, order status): {code, message, detail}")
)


def _owner(request) -> carts.CartOwner:
    return carts.CartOwner(user=request.user)


def _cart_response(
    request, status_code: int = status.HTTP_200_OK, options: dict | None = None
) -> Response:
    view = carts.cart_view(owner=_owner(request), options=options)
    return Response(s.CartSerializer.represent(view, request), status=status_code)


def _order_body(request, order_id: int) -> dict:
    """The order as GET orders/{id}/ shows it (one shape for every order answer)."""
    order = selectors.order_get_for_user(user=request.user, order_id=order_id)
    return OrderDetailSerializer(order, context={"request": request}).data


class CartAPIView(APIView):
    @extend_schema(
        tags=["cart"],
        summary="My cart",
        parameters=[s.CartQuerySerializer],
        responses={200: s.CartSerializer},
        description="Lines with their products, flags for lines that block checkout "
        "(inactive, out of stock, more than the stock) and the priced summary: subtotal, "
        "discounts, shipping, total, and hints such as how much more to spend for free "
        "shipping. Lines whose product is inactive or out of stock are left out of the totals. "
        "Applied promotions, coupon and points are in `discounts` (with `source`), the "
        "reasons for each promotion (applied / not_chosen / not_eligible) and the points "
        "available in `explanation`, and the next spend threshold in `hints` "
        '(`promotion_threshold`: "spend 35.00 more to save 20.00"). With `coupon_code` and '
        "`points` the cart is priced with them; a code or amount checkout would refuse is "
        "listed in `rejections` with the error code (`coupon_expired`, `points_insufficient`...) "
        "and left out of the totals.",
    )
    def get(self, request):
        query = s.CartQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return _cart_response(request, options=query.options())


class CartItemsAPIView(APIView):
    @extend_schema(
        tags=["cart"],
        summary="Add a product to my cart",
        request=s.CartItemCreateSerializer,
        responses={201: s.CartSerializer, 409: CONFLICT},
        description="Adds to the product's line when there is one. 400 `invalid_quantity` "
        "when the line would exceed CART_MAX_QUANTITY, `product_unavailable` for an unknown "
        "or inactive product; 409 `out_of_stock` when it would exceed the stock.",
    )
    def post(self, request):
        serializer = s.CartItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        carts.cart_add_item(
            owner=_owner(request),
            product_id=serializer.validated_data["product"],
            quantity=serializer.validated_data["quantity"],
            source=Event.Source.API,
        )
        return _cart_response(request, status.HTTP_201_CREATED)


class CartItemAPIView(APIView):
    @extend_schema(
        tags=["cart"],
        summary="Change the quantity of a cart line",
        request=s.CartItemUpdateSerializer,
        responses={200: s.CartSerializer, 409: CONFLICT},
        description="Another member's line, or an unknown id, is 404.",
    )
    def patch(self, request, pk: int):
        serializer = s.CartItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        carts.cart_update_item(
            owner=_owner(request),
            item_id=pk,
            quantity=serializer.validated_data["quantity"],
            source=Event.Source.API,
        )
        return _cart_response(request)

    @extend_schema(
        tags=["cart"],
        summary="Remove a cart line",
        responses={204: None},
        description="Another member's line, or an unknown id, is 404.",
    )
    def delete(self, request, pk: int):
        carts.cart_remove_item(owner=_owner(request), item_id=pk, source=Event.Source.API)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CheckoutAPIView(APIView):
    @extend_schema(
        tags=["orders"],
        summary="Place an order for my cart",
        request=s.CheckoutSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Recommended: a unique value (1-64 characters) per checkout "
                "attempt. Repeating a request with the same key returns the order it placed "
                "(200) instead of placing another, even if the cart changed meanwhile.",
            )
        ],
        responses={
            201: OrderDetailSerializer,
            200: OpenApiResponse(
                OrderDetailSerializer, description="The order placed earlier with this key."
            ),
            409: CONFLICT,
        },
        description="Prices are re-read and stock is reserved atomically; the order waits "
        "for payment (orders/{id}/pay/) until `payment_due_at`. 400 `cart_empty`, "
        "`product_unavailable`, `invalid_idempotency_key`; 404 `address_not_found`; "
        "409 `out_of_stock` with `detail.items` [{product, sku, name, requested, available}]. "
        "Coupon: 400 `coupon_unknown`, `coupon_expired`, `coupon_not_yet_valid`, "
        "`coupon_out_of_scope`, `coupon_below_min_spend`, `coupon_not_eligible`, "
        "`coupon_not_yours`; 409 `coupon_used`, `coupon_sold_out`, `coupon_member_limit`. "
        "Points: 400 `points_invalid`, `points_over_limit` (detail.max_points); 409 "
        "`points_insufficient` (detail.balance). 409 `promotion_exhausted` when a "
        "promotion's budget ran out meanwhile. Nothing is written on any error.",
    )
    def post(self, request):
        serializer = s.CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_place(
            user=request.user,
            address_id=serializer.validated_data["address_id"],
            note=serializer.validated_data["note"],
            idempotency_key=request.headers.get("Idempotency-Key"),
            source=Order.Source.API,
            options={
                "coupon": serializer.validated_data["coupon_code"].strip().upper(),
                "points": serializer.validated_data["points"],
            },
        )
        code = status.HTTP_200_OK if order.replayed else status.HTTP_201_CREATED
        return Response(_order_body(request, order.pk), status=code)


class OrderPayAPIView(APIView):
    @extend_schema(
        tags=["orders"],
        summary="Pay one of my orders",
        request=s.PaySerializer,
        responses={200: OrderDetailSerializer, 409: CONFLICT},
        description="Charges the order total with the payment provider. 400 "
        "`payment_failed` when declined (the order stays pending: try again); 409 "
        "`transition_not_allowed` when the order is not pending payment, `payment_expired` "
        "after its deadline; 404 for another member's order.",
    )
    def post(self, request, pk: int):
        serializer = s.PaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_pay(
            order_id=pk,
            user=request.user,
            simulate=serializer.validated_data.get("simulate"),
            source=Event.Source.API,
        )
        return Response(_order_body(request, order.pk))


urlpatterns = [
    path("cart/", CartAPIView.as_view(), name="api-cart"),
    path("cart/items/", CartItemsAPIView.as_view(), name="api-cart-items"),
    path("cart/items/<int:pk>/", CartItemAPIView.as_view(), name="api-cart-item"),
    path("checkout/", CheckoutAPIView.as_view(), name="api-checkout"),
    # A route of its own under orders/{id}/: the orders API's detail, cancel and confirm
    # routes are separate paths, so the order of the concatenated lists does not matter.
    path("orders/<int:pk>/pay/", OrderPayAPIView.as_view(), name="api-order-pay"),
]
