"""Reads of the accounts app, already limited to what the caller may see."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.exceptions import AddressNotFound
from accounts.models import Address, Profile, User
from catalog.models import Brand, Category


def address_list(*, user: User) -> QuerySet[Address]:
    """The member's own addresses, the default first, then the most recently changed."""
    return Address.objects.filter(user=user).order_by("-is_default", "-updated_at", "-id")


def address_get(*, user: User, address_id: int | str) -> Address:
    """One of the member's own addresses; another member's id raises ``AddressNotFound``."""
    try:
        return Address.objects.get(user=user, pk=int(address_id))
    except (Address.DoesNotExist, TypeError, ValueError):
        raise AddressNotFound()


def address_default(*, user: User) -> Address | None:
    return Address.objects.filter(user=user, is_default=True).first()


def profile_for_user(*, user: User) -> Profile | None:
    """The member's profile with preferences and tags prefetched (None if it does not exist)."""
    return (
        Profile.objects.select_related("user")
        .prefetch_related("favourite_categories", "favourite_brands", "tags")
        .filter(user=user)
        .first()
    )


def preference_category_choices() -> QuerySet[Category]:
    """Categories a member may pick as favourites: the active ones, parents first."""
    return (
        Category.objects.filter(is_active=True)
        .select_related("parent")
        .order_by("parent_id", "position", "name")
    )


def preference_brand_choices() -> QuerySet[Brand]:
    return Brand.objects.filter(is_active=True).order_by("name")


def user_list_for_admin() -> QuerySet[User]:
    return User.objects.select_related("profile")
