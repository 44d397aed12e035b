from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = _("Membership")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from membership import receivers  # noqa: F401  (connects the signal receivers)
