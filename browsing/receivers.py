"""Reactions of the behaviour log to other apps' signals."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.signals import user_data_erase, user_data_export
from browsing import services
from browsing.models import Event, Favorite


@receiver(user_logged_in, dispatch_uid="browsing.attach_visitor_events")
def attach_visitor_events(sender, request, user, **kwargs) -> None:
    """At login (the login form, and registration's automatic login), the events
    the browser made anonymously become the member's: one UPDATE, in the request,
    so the footprints page shows them at once."""
    if request is None:
        return
    services.events_attach_to_member(user=user, visitor=services.visitor_key(request, create=False))


@receiver(user_data_export, dispatch_uid="browsing.export_member_data")
def export_member_data(sender, user, **kwargs) -> dict:
    """The member's behaviour events and favourites for their data export."""
    events = (
        Event.objects.filter(user=user)
        .order_by("occurred_at", "pk")
        .values(
            "id", "event_type", "product_id", "product__sku", "product__name", "query",
            "quantity", "value", "ref", "source", "occurred_at", "is_hidden",
        )
    )  # fmt: skip
    favorites = (
        Favorite.objects.filter(user=user)
        .order_by("created_at", "pk")
        .values("product_id", "product__sku", "product__name", "created_at")
    )
    return {
        "events": [
            {
                "id": e["id"],
                "type": e["event_type"],
                "product": (
                    {"id": e["product_id"], "sku": e["product__sku"], "name": e["product__name"]}
                    if e["product_id"]
                    else None
                ),
                "query": e["query"],
                "quantity": e["quantity"],
                "value": e["value"],
                "ref": e["ref"],
                "source": e["source"],
                "occurred_at": e["occurred_at"],
                "hidden_from_history": e["is_hidden"],
            }
            for e in events.iterator(chunk_size=2000)
        ],
        "favorites": [
            {
                "product": {
                    "id": f["product_id"],
                    "sku": f["product__sku"],
                    "name": f["product__name"],
                },
                "saved_at": f["created_at"],
            }
            for f in favorites
        ],
    }


@receiver(user_data_erase, dispatch_uid="browsing.erase_member_data")
def erase_member_data(sender, user, **kwargs) -> None:
    """Account deletion: the member's behaviour events and favourites go."""
    Event.objects.filter(user=user).delete()
    Favorite.objects.filter(user=user).delete()
