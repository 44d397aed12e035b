"""Input and output shapes of the behaviour API: the events batch, history, favourites."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from browsing.models import Event
from browsing.services import CLIENT_EVENT_TYPES, search_query_clean
from catalog.api.serializers import ProductListSerializer
from catalog.models import Product

# How far a client's clock may run ahead of ours, and how old an event may be.
EVENT_MAX_CLOCK_SKEW = timedelta(minutes=5)
EVENT_MAX_AGE = timedelta(days=30)
MAX_ID = 2**63 - 1

PRODUCT_EVENT_TYPES = {
    Event.Type.VIEW,
    Event.Type.FAVORITE,
    Event.Type.UNFAVORITE,
    Event.Type.CART_ADD,
    Event.Type.CART_REMOVE,
}
# Events about a product the member already had (it may have been withdrawn since).
ANY_PRODUCT_EVENT_TYPES = {Event.Type.UNFAVORITE, Event.Type.CART_REMOVE}


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its offset (``Z`` or ``+08:00``)."""

    default_error_messages = {
        "naive": _("Give the time with its UTC offset, e.g. 2026-05-01T08:30:00+08:00."),
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class EventInSerializer(serializers.Serializer):
    """One client event. Purchases and ratings are not accepted from clients."""

    client_event_id = serializers.CharField(
        max_length=64,
        help_text=_(
            "The client's own id of the event (e.g. a UUID); an id already sent is a duplicate."
        ),
    )
    type = serializers.ChoiceField(choices=Event.Type.choices)
    product = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("Product id; required for every type but search."),
    )
    query = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("The search words; required for search."),
    )
    result_count = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=10**9,
        help_text=_("Number of results the search showed."),
    )
    quantity = serializers.IntegerField(
        required=False, min_value=1, max_value=settings.CART_MAX_QUANTITY, default=1
    )
    occurred_at = AwareDateTimeField(
        help_text=_(
            "When it happened on the device (ISO 8601 with offset); at most 5 minutes "
            "ahead of the server and 30 days old."
        )
    )

    def validate_type(self, value: str) -> str:
        if value not in CLIENT_EVENT_TYPES:
            raise serializers.ValidationError(
                _("%(type)s events are recorded by the shop, not sent by clients.")
                % {"type": value}
            )
        return value

    def validate_occurred_at(self, value):
        now = timezone.now()
        if value > now + EVENT_MAX_CLOCK_SKEW:
            raise serializers.ValidationError(_("The time is in the future."))
        if value < now - EVENT_MAX_AGE:
            raise serializers.ValidationError(_("The event is older than 30 days."))
        return value

    def validate(self, attrs: dict) -> dict:
        event_type = attrs["type"]
        if event_type in PRODUCT_EVENT_TYPES and not attrs.get("product"):
            raise serializers.ValidationError(
                {"product": [_("This field is required for this type.")]}
            )
        if event_type == Event.Type.SEARCH:
            attrs["query"] = search_query_clean(attrs.get("query"))
            if not attrs["query"]:
                raise serializers.ValidationError(
                    {"query": [_("This field is required for a search.")]}
                )
        return attrs

    @staticmethod
    def to_service(attrs: dict) -> dict:
        is_search = attrs["type"] == Event.Type.SEARCH
        result_count = attrs.get("result_count")
        return {
            "client_event_id": attrs["client_event_id"],
            "event_type": attrs["type"],
            "product_id": None if is_search else attrs.get("product"),
            "query": attrs.get("query", "") if is_search else "",
            "quantity": attrs.get("quantity") or 1,
            "value": result_count if is_search and result_count is not None else None,
            "occurred_at": attrs["occurred_at"],
        }


class EventBatchSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.JSONField(allow_null=True),
        allow_empty=False,
        help_text=_("At most EVENTS_BATCH_MAX (default 200) events."),
    )


class EventBatchRequestDoc(serializers.Serializer):
    """The documented request body (each item is validated on its own)."""

    events = EventInSerializer(many=True)


class RejectedEventSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Position of the event in the batch (0-based)."))
    client_event_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Field name (or non_field_errors) to reasons."),
    )


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text=_("Events stored."))
    duplicates = serializers.IntegerField(
        help_text=_("Events whose client_event_id was already sent (not stored again).")
    )
    rejected = RejectedEventSerializer(many=True)


def _client_id_of(item: Any) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("client_event_id"), str | int):
        return str(item["client_event_id"])[:64]
    return None


def _flatten_errors(errors: Any) -> dict:
    if isinstance(errors, dict):
        return {
            key: [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in errors.items()
        }
    return {"non_field_errors": [str(m) for m in errors]}


def events_validate(items: list) -> tuple[list[dict], list[dict]]:
    """Validate every event of a batch on its own: (valid events for the service, rejected).

    Products are checked in one query for the whole batch: unknown ones are
    refused, and inactive ones too except for unfavorite / cart_remove.
    """
    valid: list[tuple[int, dict]] = []
    rejected: list[dict] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append(
                {
                    "index": index,
                    "client_event_id": None,
                    "errors": {"non_field_errors": [str(_("An event must be a JSON object."))]},
                }
            )
            continue
        serializer = EventInSerializer(data=item)
        if serializer.is_valid():
            valid.append((index, EventInSerializer.to_service(serializer.validated_data)))
        else:
            rejected.append(
                {
                    "index": index,
                    "client_event_id": _client_id_of(item),
                    "errors": _flatten_errors(serializer.errors),
                }
            )
    product_ids = {e["product_id"] for _i, e in valid if e["product_id"]}
    active = dict(
        Product.objects.filter(pk__in=product_ids).values_list("pk", "is_active")
        if product_ids
        else []
    )
    kept: list[dict] = []
    for index, event in valid:
        product_id = event["product_id"]
        if product_id and (
            product_id not in active
            or (not active[product_id] and event["event_type"] not in ANY_PRODUCT_EVENT_TYPES)
        ):
            rejected.append(
                {
                    "index": index,
                    "client_event_id": event["client_event_id"],
                    "errors": {"product": [str(_("Unknown product."))]},
                }
            )
            continue
        kept.append(event)
    rejected.sort(key=lambda r: r["index"])
    return kept, rejected


# --- history and favourites ---------------------------------------------------------


class ViewedProductSerializer(serializers.Serializer):
    product = ProductListSerializer(read_only=True)
    viewed_at = serializers.DateTimeField(read_only=True, help_text=_("The latest view."))
    views = serializers.IntegerField(read_only=True, help_text=_("Number of views."))


class PastSearchSerializer(serializers.Serializer):
    query = serializers.CharField(read_only=True)
    searched_at = serializers.DateTimeField(read_only=True, help_text=_("The latest search."))
    result_count = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Results of the latest search.")
    )


class FavoriteSerializer(serializers.Serializer):
    product = ProductListSerializer(read_only=True)
    saved_at = serializers.DateTimeField(source="created_at", read_only=True)


class FavoriteCreateSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
