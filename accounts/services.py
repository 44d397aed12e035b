"""Writes of the accounts app: registration, verification, profile, addresses, privacy.

Every function is keyword-only, owns its transaction and raises the domain
errors of ``accounts.exceptions`` (or Django's ``ValidationError`` for field
errors); views, forms, serializers and tasks only call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework.authtoken.models import Token

from accounts.exceptions import (
    AddressNotFound,
    DefaultAddressRequired,
    EmailAlreadyRegistered,
    EmailAlreadyVerified,
    InvalidPassword,
    InvalidToken,
)
from accounts.models import Address, Profile, User
from accounts.signals import user_data_erase, user_data_export
from catalog.models import Brand, Category

EMAIL_VERIFICATION_SALT = "accounts.email-verification"

PROFILE_FIELDS = ("display_name", "phone", "gender", "birthday", "avatar", "language")
ADDRESS_FIELDS = (
    "recipient_name",
    "phone",
    "country",
    "province",
    "city",
    "district",
    "line1",
    "line2",
    "postal_code",
)


# --- registration and email verification ------------------------------------------------


def normalise_email(email: str) -> str:
    """The one spelling of an email address we store and look up: trimmed, lower case."""
    return User.objects.normalize_email((email or "").strip()).lower()


def password_check(*, password: str, user: User | None = None) -> None:
    """Run Django's password validators; raise ``InvalidPassword`` with their messages."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidPassword(detail={"password": list(exc.messages)})


def user_register(
    *,
    email: str,
    password: str,
    display_name: str = "",
    language: str = "",
) -> User:
    """Create a member with a profile and send them a verification email.

    The email is stored in lower case and must not be registered yet (in any
    case). The password must pass ``AUTH_PASSWORD_VALIDATORS``. After commit,
    ``send_verification_email`` is enqueued.

    Raises ``EmailAlreadyRegistered`` or ``InvalidPassword``.
    """
    from accounts.tasks import send_verification_email

    email = normalise_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyRegistered(detail={"email": [str(EmailAlreadyRegistered.message)]})
    password_check(password=password, user=User(email=email))
    profile_fields: dict[str, Any] = {"display_name": display_name.strip()}
    if language in Profile.Language.values:
        profile_fields["language"] = language
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
            Profile.objects.create(user=user, **profile_fields)
    except IntegrityError:  # a concurrent registration won the race for this email
        raise EmailAlreadyRegistered(detail={"email": [str(EmailAlreadyRegistered.message)]})
    transaction.on_commit(lambda: send_verification_email.delay(user.pk))
    return user


def email_verification_token_make(*, user: User) -> str:
    """A signed token naming the user and the email it verifies (stale once the email changes)."""
    return signing.dumps({"uid": user.pk, "email": user.email}, salt=EMAIL_VERIFICATION_SALT)


def user_verify_email(*, token: str) -> User:
    """Mark the email named by ``token`` as verified; idempotent.

    The token must be younger than ``settings.EMAIL_VERIFICATION_MAX_AGE``
    seconds and name the user's current email. Raises ``InvalidToken``.
    """
    try:
        payload = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise InvalidToken(code="token_expired")
    except signing.BadSignature:
        raise InvalidToken()
    if not isinstance(payload, dict):
        raise InvalidToken()
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(pk=payload.get("uid"), email__iexact=payload.get("email", ""), is_active=True)
            .first()
        )
        if user is None:
            raise InvalidToken()
        if user.email_verified_at is None:
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
    return user


def email_verification_resend(*, user: User) -> None:
    """Enqueue a new verification email; ``EmailAlreadyVerified`` if already verified."""
    from accounts.tasks import send_verification_email

    if user.email_verified_at is not None:
        raise EmailAlreadyVerified()
    transaction.on_commit(lambda: send_verification_email.delay(user.pk))


# --- password reset -------------------------------------------------------------------------


def password_reset_request(*, email: str) -> None:
    """Enqueue a reset email for the active member with this email, if there is one.

    Says nothing about whether the address is registered: callers answer the
    same way in both cases.
    """
    from accounts.tasks import send_password_reset_email

    user_ids = list(
        User.objects.filter(email__iexact=normalise_email(email), is_active=True)
        .exclude(password__startswith="!")  # unusable password: nothing to reset
        .values_list("pk", flat=True)
    )
    for user_id in user_ids:
        transaction.on_commit(lambda user_id=user_id: send_password_reset_email.delay(user_id))


def password_reset_user_get(*, uidb64: str, token: str) -> User:
    """The user a (uid, token) pair from a reset email belongs to; raises ``InvalidToken``."""
    try:
        user_id = force_str(urlsafe_base64_decode(uidb64))
        user = User.objects.get(pk=int(user_id), is_active=True)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        raise InvalidToken()
    if not default_token_generator.check_token(user, token):
        raise InvalidToken()
    return user


def password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link then stops working.

    API tokens of the user are deleted (sessions end by themselves because the
    password hash changed). Raises ``InvalidToken`` or ``InvalidPassword``.
    """
    user = password_reset_user_get(uidb64=uidb64, token=token)
    password_check(password=new_password, user=user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        Token.objects.filter(user=user).delete()
    return user


# --- profile and preferences ------------------------------------------------------------


def profile_ensure(*, user: User) -> Profile:
    """The member's profile, created empty if an import or the admin made the user without one."""
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def _delete_file_on_commit(field_file) -> None:
    if not field_file:
        return
    storage, name = field_file.storage, field_file.name
    transaction.on_commit(lambda: storage.delete(name))


def profile_update(*, user: User, data: dict[str, Any]) -> Profile:
    """Update the personal fields of the member's profile.

    ``data`` may hold display_name, phone, gender, birthday, avatar and
    language; other keys are ignored. A replaced or cleared avatar file is
    deleted after commit. Raises ``ValidationError`` for invalid values.
    """
    with transaction.atomic():
        profile = profile_ensure(user=user)
        old_avatar = profile.avatar.name if profile.avatar else ""
        storage = profile.avatar.storage
        for field in PROFILE_FIELDS:
            if field in data:
                setattr(profile, field, data[field])
        if "birthday" in data and not data["birthday"]:
            profile.birthday = None
        if "avatar" in data and not data["avatar"]:
            profile.avatar = None
        for field in ("display_name", "phone"):
            profile_value = getattr(profile, field)
            setattr(profile, field, (profile_value or "").strip())
        profile.full_clean(exclude=["user", "favourite_categories", "favourite_brands", "tags"])
        profile.save()
        new_avatar = profile.avatar.name if profile.avatar else ""
        if old_avatar and old_avatar != new_avatar:
            transaction.on_commit(lambda: storage.delete(old_avatar))
    return profile


def preferences_update(
    *,
    user: User,
    favourite_categories: Iterable[Category | int] = (),
    favourite_brands: Iterable[Brand | int] = (),
    marketing_opt_in: bool = False,
) -> Profile:
    """Replace the member's declared preferences (用户喜好) and record when they chose them.

    Only active categories and brands are kept; unknown ids are ignored.
    """
    category_ids = {c.pk if isinstance(c, Category) else int(c) for c in favourite_categories}
    brand_ids = {b.pk if isinstance(b, Brand) else int(b) for b in favourite_brands}
    with transaction.atomic():
        profile = profile_ensure(user=user)
        profile.favourite_categories.set(
            Category.objects.filter(pk__in=category_ids, is_active=True)
        )
        profile.favourite_brands.set(Brand.objects.filter(pk__in=brand_ids, is_active=True))
        profile.marketing_opt_in = bool(marketing_opt_in)
        profile.preferences_set_at = timezone.now()
        profile.save(update_fields=["marketing_opt_in", "preferences_set_at", "updated_at"])
    return profile


def preferences_skip(*, user: User) -> Profile:
    """The member skipped the preferences step: remember that, so it is not offered again."""
    with transaction.atomic():
        profile = profile_ensure(user=user)
        if profile.preferences_set_at is None:
            profile.preferences_set_at = timezone.now()
            profile.save(update_fields=["preferences_set_at", "updated_at"])
    return profile


# --- addresses ------------------------------------------------------------------------------


def _lock_addresses(user: User) -> list[Address]:
    """Lock the member row, then their addresses in pk order (one lock order for every writer)."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    return list(Address.objects.select_for_update().filter(user=user).order_by("pk"))


def _find(addresses: list[Address], address_id: int) -> Address:
    for address in addresses:
        if address.pk == int(address_id):
            return address
    raise AddressNotFound()


def _make_default(addresses: list[Address], chosen: Address) -> None:
    others = [a.pk for a in addresses if a.is_default and a.pk != chosen.pk]
    if others:  # clear first: the one-default constraint is checked per statement
        Address.objects.filter(pk__in=others).update(is_default=False, updated_at=timezone.now())
    if not chosen.is_default:
        chosen.is_default = True
        chosen.save(update_fields=["is_default", "updated_at"])


def address_create(*, user: User, data: dict[str, Any], is_default: bool = False) -> Address:
    """Add an address for the member. Their first address, or one asked for, becomes the default.

    Raises ``ValidationError`` for invalid fields (phone, postal code, ...).
    """
    with transaction.atomic():
        addresses = _lock_addresses(user)
        address = Address(user=user, **{f: data[f] for f in ADDRESS_FIELDS if f in data})
        address.full_clean(exclude=["user", "is_default"])
        address.save()
        if is_default or not any(a.is_default for a in addresses):
            _make_default(addresses, address)
    return address


def address_update(
    *, user: User, address_id: int, data: dict[str, Any], is_default: bool | None = None
) -> Address:
    """Change one of the member's addresses; ``is_default=True`` also makes it the default.

    Unsetting the default directly raises ``DefaultAddressRequired`` (choose
    another default instead). Another member's id raises ``AddressNotFound``.
    """
    with transaction.atomic():
        addresses = _lock_addresses(user)
        address = _find(addresses, address_id)
        if is_default is False and address.is_default:
            raise DefaultAddressRequired()
        for field in ADDRESS_FIELDS:
            if field in data:
                setattr(address, field, data[field])
        address.full_clean(exclude=["user", "is_default"])
        address.save()
        if is_default:
            _make_default(addresses, address)
    return address


def address_set_default(*, user: User, address_id: int) -> Address:
    """Make one of the member's addresses the default and clear the previous one, atomically."""
    with transaction.atomic():
        addresses = _lock_addresses(user)
        address = _find(addresses, address_id)
        _make_default(addresses, address)
    return address


def address_delete(*, user: User, address_id: int) -> None:
    """Delete one of the member's addresses; if it was the default, the newest other one
    becomes the default."""
    with transaction.atomic():
        addresses = _lock_addresses(user)
        address = _find(addresses, address_id)
        was_default = address.is_default
        address.delete()
        rest = [a for a in addresses if a.pk != address.pk]
        if was_default and rest:
            newest = max(rest, key=lambda a: (a.created_at, a.pk))
            _make_default(rest, newest)


# --- privacy: export and deletion -----------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _jsonable(value) for key, value in values.items()}


def user_export_data(*, user: User) -> dict[str, Any]:
    """Everything we hold about the member, as a JSON-serialisable dict.

    Decimals are strings and datetimes ISO 8601. Only the member's own rows.
    Other apps add their sections (behaviour events, favourites, orders,
    reviews) through ``accounts.signals.user_data_export``.
    """
    profile = (
        Profile.objects.filter(user=user)
        .prefetch_related("favourite_categories", "favourite_brands", "tags")
        .first()
    )
    addresses = (
        Address.objects.filter(user=user)
        .order_by("pk")
        .values("id", *ADDRESS_FIELDS, "is_default", "created_at", "updated_at")
    )
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": _row(
            {
                "id": user.pk,
                "email": user.email,
                "external_id": user.external_id,
                "date_joined": user.date_joined,
                "email_verified_at": user.email_verified_at,
                "last_login": user.last_login,
            }
        ),
        "profile": None,
        "preferences": None,
        "tags": [],
        "addresses": [_row(a) for a in addresses],
    }
    if profile is not None:
        data["profile"] = _row(
            {
                "display_name": profile.display_name,
                "phone": profile.phone,
                "gender": profile.gender,
                "birthday": profile.birthday,
                "avatar": profile.avatar.name if profile.avatar else None,
                "language": profile.language,
            }
        )
        data["preferences"] = _row(
            {
                "favourite_categories": [
                    {"id": c.pk, "name": c.name} for c in profile.favourite_categories.all()
                ],
                "favourite_brands": [
                    {"id": b.pk, "name": b.name} for b in profile.favourite_brands.all()
                ],
                "marketing_opt_in": profile.marketing_opt_in,
                "preferences_set_at": profile.preferences_set_at,
            }
        )
        data["tags"] = [t.name for t in profile.tags.all()]
    for _receiver, sections in user_data_export.send(sender=User, user=user):
        if sections:
            data.update({key: _jsonable_tree(value) for key, value in sections.items()})
    return data


def _jsonable_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable_tree(item) for item in value]
    return _jsonable(value)


def user_delete_account(*, user: User) -> None:
    """Delete the member's personal data and close the account, keeping an anonymous row.

    The User row stays (future orders keep a link to it) with email
    ``deleted-<id>@invalid.example``, no external id, an unusable password,
    ``is_active=False`` and ``anonymised_at`` set. Profile personal fields and
    preferences are blanked (the avatar file is deleted after commit),
    addresses and API tokens are deleted, and every other app erases or
    anonymises its rows of the member through ``accounts.signals.user_data_erase``
    (behaviour events and favourites deleted; orders kept for the accounts with
    the address snapshot blanked; reviews and the cart deleted). Idempotent.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.email = f"deleted-{user.pk}@invalid.example"
        user.external_id = None
        user.set_unusable_password()
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.email_verified_at = None
        user.anonymised_at = user.anonymised_at or timezone.now()
        user.save()
        user.groups.clear()
        user.user_permissions.clear()

        profile = Profile.objects.filter(user=user).first()
        if profile is not None:
            _delete_file_on_commit(profile.avatar)
            profile.display_name = ""
            profile.phone = ""
            profile.gender = Profile.Gender.UNSPECIFIED
            profile.birthday = None
            profile.avatar = None
            profile.language = Profile.Language.ENGLISH
            profile.marketing_opt_in = False
            profile.preferences_set_at = None
            profile.save()
            profile.favourite_categories.clear()
            profile.favourite_brands.clear()
            profile.tags.clear()

        Address.objects.filter(user=user).delete()
        Token.objects.filter(user=user).delete()
        user_data_erase.send(sender=User, user=user)
