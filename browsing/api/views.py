"""Behaviour API under /api/v1/: the events batch of mobile clients, the member's
footprints and search history, favourites. Members only (token or session).

Views parse input with a serializer, call one service or selector and shape
the answer; errors leave through config.api.errors as {"code", "message", "detail"}.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from browsing import selectors, services
from browsing.api import serializers as s
from browsing.models import Event, Favorite
from config.api.errors import DomainError, NotFound

ERRORS = {
    400: OpenApiResponse(description=_("Invalid input: {code, message, detail}")),
    401: OpenApiResponse(description=_("Not authenticated")),
    404: OpenApiResponse(description=_("Not found")),
    413: OpenApiResponse(description=_("Too many events in one batch (code batch_too_large)")),
}


class BatchTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "batch_too_large"
    message = _("Too many events in one batch.")


class EventBatchView(APIView):
    @extend_schema(
        tags=["behaviour"],
        summary="Send a batch of behaviour events",
        request=s.EventBatchRequestDoc,
        responses={
            200: s.EventBatchResultSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            413: ERRORS[413],
        },
        description=(
            "Events recorded on the device (types view, search, favorite, unfavorite, "
            "cart_add, cart_remove; purchase and rating are recorded by the shop and refused). "
            "Each event is validated on its own: the good ones are stored, the bad ones are "
            "listed in `rejected` with their index and reasons, and the answer is **200** "
            "whenever the batch itself could be read. An event whose `client_event_id` this "
            "member already sent (earlier or in the same batch) is counted in `duplicates` and "
            "not stored again, so a client can safely resend a batch. 400 when the body is not a "
            "JSON object with a non-empty `events` list; 413 when it holds more than "
            "EVENTS_BATCH_MAX (default 200) events. Events are stored as sent (the web's "
            "collapsing of repeated views does not apply). Favourite events only log: change the "
            "saved list with `me/favorites/`, which logs its own event."
        ),
        examples=[
            OpenApiExample(
                "Two events",
                request_only=True,
                value={
                    "events": [
                        {
                            "client_event_id": "7d0c1f1e-1",
                            "type": "view",
                            "product": 42,
                            "occurred_at": "2026-05-01T08:30:00+08:00",
                        },
                        {
                            "client_event_id": "7d0c1f1e-2",
                            "type": "search",
                            "query": "kettle",
                            "result_count": 12,
                            "occurred_at": "2026-05-01T08:31:00+08:00",
                        },
                    ]
                },
            )
        ],
    )
    def post(self, request):
        raw_events = request.data.get("events") if isinstance(request.data, dict) else None
        if isinstance(raw_events, list) and len(raw_events) > settings.EVENTS_BATCH_MAX:
            raise BatchTooLarge(
                detail={"max_events": settings.EVENTS_BATCH_MAX, "received": len(raw_events)}
            )
        batch = s.EventBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        events, rejected = s.events_validate(batch.validated_data["events"])
        result = services.events_ingest(user=request.user, events=events, rejected=rejected)
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": result.rejected,
            }
        )


class _MemberListView(generics.GenericAPIView):
    """A paginated list of the member's own rows, built from a selector."""

    def list_response(self, queryset, to_rows):
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(to_rows(page), many=True)
        return self.get_paginated_response(serializer.data)


class HistoryViewsView(_MemberListView):
    serializer_class = s.ViewedProductSerializer
    queryset = Event.objects.none()  # schema only; rows come from the selector

    @extend_schema(
        tags=["behaviour"],
        summary="My footprints (recently viewed products)",
        description="Each product once, latest view first; products no longer sold are left out.",
        responses={200: s.ViewedProductSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request):
        return self.list_response(
            selectors.history_views(user=request.user), selectors.history_view_rows
        )

    @extend_schema(
        tags=["behaviour"],
        summary="Clear my footprints",
        operation_id="v1_me_history_views_clear",
        description="Hides every view from the footprints. The views stay in the behaviour "
        "log that profiles and recommendations read.",
        responses={204: None, 401: ERRORS[401]},
    )
    def delete(self, request):
        services.history_views_hide(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HistoryViewDetailView(APIView):
    @extend_schema(
        tags=["behaviour"],
        summary="Remove one product from my footprints",
        description="Hides the member's views of the product. 404 when the product is not in "
        "the member's footprints (also for any other member's products).",
        responses={204: None, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def delete(self, request, product_id: int):
        if not services.history_views_hide(user=request.user, product_id=product_id):
            raise NotFound(_("This product is not in your footprints."))
        return Response(status=status.HTTP_204_NO_CONTENT)


class HistorySearchesView(_MemberListView):
    serializer_class = s.PastSearchSerializer
    queryset = Event.objects.none()  # schema only; rows come from the selector

    @extend_schema(
        tags=["behaviour"],
        summary="My search history",
        description="Each query once, latest first, with the result count of its latest search.",
        responses={200: s.PastSearchSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request):
        return self.list_response(
            selectors.history_searches(user=request.user),
            lambda rows: selectors.history_search_rows(rows, user=request.user),
        )

    @extend_schema(
        tags=["behaviour"],
        summary="Clear my search history",
        operation_id="v1_me_history_searches_clear",
        description="Hides every search from the history; they stay in the behaviour log.",
        responses={204: None, 401: ERRORS[401]},
    )
    def delete(self, request):
        services.history_searches_hide(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoriteListView(_MemberListView):
    serializer_class = s.FavoriteSerializer
    queryset = Favorite.objects.none()  # schema only; rows come from the selector

    @extend_schema(
        tags=["behaviour"],
        summary="My favourites",
        description="Saved products, newest first (products no longer sold included: check "
        "`in_stock`).",
        responses={200: s.FavoriteSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request):
        return self.list_response(selectors.favorite_list(user=request.user), list)

    @extend_schema(
        tags=["behaviour"],
        summary="Save a product to my favourites",
        request=s.FavoriteCreateSerializer,
        description="201 when saved now, 200 when it was already saved (nothing changes). 404 "
        "(code product_not_found) for an unknown or withdrawn product.",
        responses={
            200: s.FavoriteSerializer,
            201: s.FavoriteSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            404: ERRORS[404],
        },
    )
    def post(self, request):
        data = s.FavoriteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product_id = data.validated_data["product"]
        created = services.favorite_add(
            user=request.user, product_id=product_id, source=Event.Source.API
        )
        favorite = selectors.favorite_list(user=request.user).get(product_id=product_id)
        return Response(
            s.FavoriteSerializer(favorite, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class FavoriteDetailView(APIView):
    @extend_schema(
        tags=["behaviour"],
        summary="Remove a product from my favourites",
        description="404 when the product is not among the member's favourites.",
        responses={204: None, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def delete(self, request, product_id: int):
        if not services.favorite_remove(
            user=request.user, product_id=product_id, source=Event.Source.API
        ):
            raise NotFound(_("This product is not in your favourites."))
        return Response(status=status.HTTP_204_NO_CONTENT)
