"""Accounts API under /api/v1/: auth, the member (me/), addresses, export and deletion.

Views parse input with a serializer, call services or selectors and shape the
answer; errors leave through config.api.errors as {"code", "message", "detail"}.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, logout
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.models import Address
from config.api.errors import DomainError


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    message = _("The email address or password is incorrect.")


class AuthEndpoint(APIView):
    """Anonymous, throttled with the "auth" scope."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


PASSWORD_RESET_ACCEPTED = _(
    "If an account exists for this email address, we have sent it a password reset link."
)

ERRORS = {
    400: OpenApiResponse(description=_("Invalid input: {code, message, detail}")),
    401: OpenApiResponse(description=_("Not authenticated")),
    404: OpenApiResponse(description=_("Not found")),
    429: OpenApiResponse(description=_("Throttled or locked out")),
}


def _me_response(request) -> Response:
    profile = selectors.profile_for_user(user=request.user)
    return Response(s.MeSerializer.represent(request.user, profile, request))


class RegisterView(AuthEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Register a member",
        request=s.RegisterSerializer,
        responses={201: s.MeSerializer, 400: ERRORS[400], 429: ERRORS[429]},
        description="Creates the member and sends a verification email. The answer also "
        "holds an API `token`.",
    )
    def post(self, request):
        serializer = s.RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        token, _created = Token.objects.get_or_create(user=user)
        body = s.MeSerializer.represent(user, selectors.profile_for_user(user=user), request)
        return Response({**body, "token": token.key}, status=status.HTTP_201_CREATED)


class TokenObtainView(AuthEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Get an API token",
        request=s.TokenRequestSerializer,
        responses={200: s.TokenSerializer, 400: ERRORS[400], 429: ERRORS[429]},
        description='Email and password to `{"token": key}`. Repeated failures lock the '
        "account for this client (429).",
    )
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, so that django-axes records failures and flags a lockout
        # on the object its middleware sees.
        user = authenticate(
            request=request._request,
            username=services.normalise_email(serializer.validated_data["email"]),
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise InvalidCredentials()
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class PasswordResetView(AuthEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Ask for a password reset email",
        request=s.PasswordResetRequestSerializer,
        responses={202: s.DetailSerializer, 400: ERRORS[400], 429: ERRORS[429]},
        description="Always the same answer, whether or not the email is registered.",
    )
    def post(self, request):
        serializer = s.PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": str(PASSWORD_RESET_ACCEPTED)}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(AuthEndpoint):
    @extend_schema(
        tags=["auth"],
        summary="Set a new password with the uid and token of a reset email",
        request=s.PasswordResetConfirmSerializer,
        responses={200: s.DetailSerializer, 400: ERRORS[400], 429: ERRORS[429]},
    )
    def post(self, request):
        serializer = s.PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.password_reset_confirm(
            uidb64=data["uid"], token=data["token"], new_password=data["new_password"]
        )
        return Response({"detail": str(_("Your password has been set."))})


class MeView(APIView):
    @extend_schema(
        tags=["me"], summary="The member", responses={200: s.MeSerializer, 401: ERRORS[401]}
    )
    def get(self, request):
        return _me_response(request)

    @extend_schema(
        tags=["me"],
        summary="Update profile fields and preferences",
        request=s.MeSerializer,
        responses={200: s.MeSerializer, 400: ERRORS[400], 401: ERRORS[401]},
        description="`email` is read-only. Preferences not sent keep their values.",
    )
    def patch(self, request):
        serializer = s.MeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            profile_data = {k: data[k] for k in s.MeSerializer.PROFILE_FIELDS if k in data}
            if profile_data:
                services.profile_update(user=request.user, data=profile_data)
            if any(k in data for k in s.MeSerializer.PREFERENCE_FIELDS):
                current = selectors.profile_for_user(user=request.user)
                services.preferences_update(
                    user=request.user,
                    favourite_categories=data.get(
                        "favourite_categories",
                        current.favourite_categories.all() if current else [],
                    ),
                    favourite_brands=data.get(
                        "favourite_brands", current.favourite_brands.all() if current else []
                    ),
                    marketing_opt_in=data.get(
                        "marketing_opt_in", current.marketing_opt_in if current else False
                    ),
                )
        return _me_response(request)

    @extend_schema(
        tags=["me"],
        summary="Delete the account (anonymise)",
        request=s.AccountDeleteSerializer,
        responses={204: None, 400: ERRORS[400], 401: ERRORS[401]},
        description="Needs the current `password`. Personal data, addresses, tokens and the "
        "behaviour log are deleted; an anonymous account row is kept for past orders.",
    )
    def delete(self, request):
        serializer = s.AccountDeleteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.user_delete_account(user=request.user)
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportView(APIView):
    @extend_schema(
        tags=["me"],
        summary="Export all my data",
        responses={200: s.ExportSerializer, 401: ERRORS[401]},
    )
    def get(self, request):
        return Response(services.user_export_data(user=request.user))


class OwnAddressesMixin:
    serializer_class = s.AddressSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Address.objects.none()
        return selectors.address_list(user=self.request.user)


@extend_schema_view(
    get=extend_schema(
        tags=["me"],
        summary="My addresses",
        responses={200: s.AddressSerializer(many=True), 401: ERRORS[401]},
    ),
    post=extend_schema(
        tags=["me"],
        summary="Add an address",
        description="The first address becomes the default; `is_default: true` makes a new "
        "address the default.",
        responses={201: s.AddressSerializer, 400: ERRORS[400], 401: ERRORS[401]},
    ),
)
class AddressListView(OwnAddressesMixin, generics.ListCreateAPIView):
    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        is_default = bool(data.pop("is_default", False))
        serializer.instance = services.address_create(
            user=self.request.user, data=data, is_default=is_default
        )


@extend_schema_view(
    get=extend_schema(
        tags=["me"],
        summary="One of my addresses",
        responses={200: s.AddressSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    ),
    put=extend_schema(
        tags=["me"],
        summary="Replace an address",
        responses={200: s.AddressSerializer, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404]},
    ),
    patch=extend_schema(
        tags=["me"],
        summary="Change an address",
        responses={200: s.AddressSerializer, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404]},
    ),
    delete=extend_schema(
        tags=["me"],
        summary="Delete an address",
        description="If it was the default, the newest other address becomes the default.",
        responses={204: None, 401: ERRORS[401], 404: ERRORS[404]},
    ),
)
class AddressDetailView(OwnAddressesMixin, generics.RetrieveUpdateDestroyAPIView):
    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        is_default = data.pop("is_default", None)
        serializer.instance = services.address_update(
            user=self.request.user,
            address_id=serializer.instance.pk,
            data=data,
            is_default=is_default,
        )

    def perform_destroy(self, instance):
        services.address_delete(user=self.request.user, address_id=instance.pk)


class AddressSetDefaultView(APIView):
    @extend_schema(
        tags=["me"],
        summary="Make an address the default",
        request=None,
        responses={200: s.AddressSerializer, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def post(self, request, pk: int):
        address = services.address_set_default(user=request.user, address_id=pk)
        return Response(s.AddressSerializer(address).data)
