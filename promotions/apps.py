from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("Promotions and points")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from promotions import receivers  # noqa: F401  (connects the signal receivers)
