"""The behaviour log: one compact row per member or visitor action.

It is the single source that profiles, tiers and recommenders read. Rows are
keyed by member (or by session for anonymous visitors, attached at login),
indexed for "events of user U since T" and "events of item I".
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    class Type(models.TextChoices):
        VIEW = "view", _("Product view")
        SEARCH = "search", _("Search")
        FAVORITE = "favorite", _("Favourite added")
        UNFAVORITE = "unfavorite", _("Favourite removed")
        CART_ADD = "cart_add", _("Added to cart")
        CART_REMOVE = "cart_remove", _("Removed from cart")
        PURCHASE = "purchase", _("Purchase")
        RATING = "rating", _("Rating")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("Mobile API")
        IMPORT = "import", _("Import")
        SEED = "seed", _("Demo data")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,  # covered by the (user, occurred_at) index
    )
    session_key = models.CharField(_("session"), max_length=40, blank=True, default="")
    event_type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,  # covered by the (product, occurred_at) index
    )
    query = models.CharField(_("search query"), max_length=200, blank=True, default="")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # Rating for "rating", unit price for "purchase", result count for "search".
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2, null=True, blank=True)
    # Groups rows that belong together: the order of a "purchase" row.
    ref = models.CharField(_("reference"), max_length=64, blank=True, default="")
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.WEB)
    client_event_id = models.CharField(max_length=64, null=True, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    # Removed from the member's own history pages (footprints, search history);
    # the row stays in the log for profiles and recommenders.
    is_hidden = models.BooleanField(_("hidden from history"), default=False, db_default=False)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["user", "occurred_at"], name="browsing_event_user_time"),
            models.Index(fields=["product", "occurred_at"], name="browsing_event_item_time"),
            models.Index(fields=["event_type", "occurred_at"], name="browsing_event_type_time"),
            # A member's events of one type: footprints, search history (migration 0003).
            models.Index(
                fields=["user", "event_type", "occurred_at"], name="browsing_event_user_type_time"
            ),
            models.Index(
                fields=["session_key", "occurred_at"],
                name="browsing_event_session_time",
                condition=models.Q(user__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_event_id"],
                condition=models.Q(client_event_id__isnull=False),
                name="browsing_event_client_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(session_key=""),
                name="browsing_event_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class Favorite(models.Model):
    """A product a member saved (收藏). The add / remove actions are also logged as events."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="favorited_by"
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        verbose_name = _("favourite")
        verbose_name_plural = _("favourites")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="browsing_favorite_unique"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="browsing_fav_user_time")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.product_id}"
