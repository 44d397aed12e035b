from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BrowsingConfig(AppConfig):
    name = "browsing"
    verbose_name = _("Browsing and behaviour log")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from browsing import receivers  # noqa: F401  (connects the signal receivers)
