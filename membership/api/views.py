"""API: ``GET me/membership/`` (tier, privileges, progress, history) and
``GET me/profile/`` ("what we think you like"), ``POST me/profile/interests/``
(hide or show an interest). The caller's own data only."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from membership import selectors
from membership.api import serializers as s
from membership.profiles import interest_hide

PROFILE_FIELDS = (
    "categories",
    "brands",
    "price_band",
    "price_sensitivity",
    "lifecycle",
    "activity",
    "daypart",
    "hours",
    "sentiment_tendency",
    "orders",
    "spend",
    "recency_days",
    "hidden_categories",
    "hidden_brands",
    "tags",
)


_local_day = selectors.local_day


def _progress(overview: dict) -> dict | None:
    progress = overview["progress"]
    if not progress or progress.next_tier is None:
        return None
    return {
        "next_tier": progress.next_tier.code,
        "spend_missing": str(progress.spend_missing)
        if progress.spend_missing is not None
        else None,
        "orders_missing": progress.orders_missing,
        "before": _local_day(progress.before),
        "message": overview["progress_message"],
    }


class MyMembershipView(APIView):
    @extend_schema(
        summary=_("My membership"),
        responses={200: OpenApiResponse(description=_("Tier, privileges, progress, history"))},
    )
    def get(self, request):
        overview = selectors.membership_overview(request.user)
        membership = overview["membership"]
        tier = overview["tier"]
        return Response(
            {
                "tier": s.TierSerializer(tier).data if tier else None,
                "since": membership.since if membership else None,
                "review_at": membership.review_at if membership else None,
                "qualifying_spend": str(membership.qualifying_spend) if membership else "0.00",
                "qualifying_orders": membership.qualifying_orders if membership else 0,
                "privileges": overview["privileges"],
                "progress": _progress(overview),
                "history": s.TierChangeSerializer(overview["history"], many=True).data,
            }
        )


def _profile_body(profile) -> dict:
    data = profile.data if profile else {}
    return {
        "computed_at": profile.computed_at if profile else None,
        **{key: data.get(key) for key in PROFILE_FIELDS},
    }


class MyProfileView(APIView):
    @extend_schema(
        summary=_("What we think you like (member profile)"),
        responses={200: OpenApiResponse(description=_("The member's computed profile"))},
    )
    def get(self, request):
        return Response(_profile_body(selectors.profile_for(request.user)))


class MyInterestView(APIView):
    @extend_schema(
        summary=_("Hide or show one interest"),
        request=s.InterestSerializer,
        responses={200: OpenApiResponse(description=_("The member's computed profile"))},
    )
    def post(self, request):
        body = s.InterestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        interest_hide(
            user=request.user,
            kind=body.validated_data["kind"],
            object_id=body.validated_data["id"],
            hidden=body.validated_data["hidden"],
        )
        return Response(_profile_body(selectors.profile_for(request.user)))


urlpatterns = [
    path("me/membership/", MyMembershipView.as_view(), name="me-membership"),
    path("me/profile/", MyProfileView.as_view(), name="me-profile"),
    path("me/profile/interests/", MyInterestView.as_view(), name="me-profile-interests"),
]
