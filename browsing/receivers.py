"""Reactions of the behaviour log to other apps' signals."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from browsing import services


@receiver(user_logged_in, dispatch_uid="browsing.attach_visitor_events")
def attach_visitor_events(sender, request, user, **kwargs) -> None:
    """At login (the login form, and registration's automatic login), the events
    the browser made anonymously become the member's: one UPDATE, in the request,
    so the footprints page shows them at once."""
    if request is None:
        return
    services.events_attach_to_member(user=user, visitor=services.visitor_key(request, create=False))
