"""Input and output shapes of the accounts API; writes go through accounts.services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts import selectors, services
from accounts.models import Address, Profile, User, phone_validator


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    display_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Profile.Language.choices, required=False)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(trim_whitespace=False, max_length=128)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(trim_whitespace=False, max_length=128)

    def validate_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError(_("The password is incorrect."))
        return value


class MeSerializer(serializers.Serializer):
    """The member: read-only account fields, editable profile fields and preferences."""

    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    email_verified = serializers.BooleanField(read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)
    display_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, validators=[phone_validator]
    )
    gender = serializers.ChoiceField(choices=Profile.Gender.choices, required=False)
    birthday = serializers.DateField(required=False, allow_null=True)
    language = serializers.ChoiceField(choices=Profile.Language.choices, required=False)
    avatar_url = serializers.CharField(read_only=True, allow_null=True)
    favourite_categories = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=selectors.preference_category_choices()
    )
    favourite_brands = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=selectors.preference_brand_choices()
    )
    marketing_opt_in = serializers.BooleanField(required=False)
    preferences_set_at = serializers.DateTimeField(read_only=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    PROFILE_FIELDS = ("display_name", "phone", "gender", "birthday", "language")
    PREFERENCE_FIELDS = ("favourite_categories", "favourite_brands", "marketing_opt_in")

    @staticmethod
    def represent(user: User, profile: Profile | None, request=None) -> dict:
        avatar_url = None
        if profile is not None and profile.avatar:
            avatar_url = profile.avatar.url
            if request is not None:
                avatar_url = request.build_absolute_uri(avatar_url)
        return {
            "id": user.pk,
            "email": user.email,
            "email_verified": user.email_verified_at is not None,
            "date_joined": user.date_joined,
            "display_name": profile.display_name if profile else "",
            "phone": profile.phone if profile else "",
            "gender": profile.gender if profile else Profile.Gender.UNSPECIFIED,
            "birthday": profile.birthday if profile else None,
            "language": profile.language if profile else Profile.Language.ENGLISH,
            "avatar_url": avatar_url,
            "favourite_categories": [c.pk for c in profile.favourite_categories.all()]
            if profile
            else [],
            "favourite_brands": [b.pk for b in profile.favourite_brands.all()] if profile else [],
            "marketing_opt_in": profile.marketing_opt_in if profile else False,
            "preferences_set_at": profile.preferences_set_at if profile else None,
            "tags": [t.name for t in profile.tags.all()] if profile else [],
        }


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["id", *services.ADDRESS_FIELDS, "is_default", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"is_default": {"required": False}}

    def validate_country(self, value: str) -> str:
        return value.strip().upper()


class ExportSerializer(serializers.Serializer):
    """The data export: see ``accounts.services.user_export_data``."""

    exported_at = serializers.DateTimeField()
    account = serializers.DictField()
    profile = serializers.DictField(allow_null=True)
    preferences = serializers.DictField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    addresses = serializers.ListField(child=serializers.DictField())
    events = serializers.ListField(child=serializers.DictField())
