"""Admin of the behaviour log (read-only: it is written by the shop, not by staff) and
of members' favourites."""

from django.contrib import admin
from django.http import HttpRequest

from browsing.models import Event, Favorite


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list and detail pages to look at rows; no add, change or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "event_type",
        "user",
        "session_key",
        "product",
        "query",
        "quantity",
        "value",
        "source",
        "is_hidden",
    ]
    list_filter = ["event_type", "source", "is_hidden"]
    list_select_related = ["user", "product"]
    search_fields = ["user__email", "query", "product__sku", "client_event_id", "ref"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False  # no COUNT(*) over the whole log on every page
    raw_id_fields = ["user", "product"]
    fields = [
        "event_type",
        "user",
        "session_key",
        "product",
        "query",
        "quantity",
        "value",
        "ref",
        "source",
        "client_event_id",
        "occurred_at",
        "is_hidden",
    ]


@admin.register(Favorite)
class FavoriteAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "product"]
    list_select_related = ["user", "product"]
    search_fields = ["user__email", "product__sku", "product__name"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user", "product"]
