"""Model versions and what they publish: stored top-N lists per member, similar-item
and bought-together lists per product, the fold-in artefact; and the served-list
log (impressions) with its clicks.

Lists are stored one row per (version, member) or (version, product, kind) with
the product ids and scores as JSON arrays: one indexed read serves a whole list
and a publish writes one row per member instead of a hundred (see README,
"Design notes").
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        BUILDING = "building", _("Building")
        LIVE = "live", _("Live")
        RETIRED = "retired", _("Retired")
        FAILED = "failed", _("Failed")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BUILDING
    )
    triggered_by = models.CharField(_("triggered by"), max_length=32, blank=True, default="")
    progress = models.FloatField(_("progress"), default=0.0)
    stage = models.CharField(_("stage"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Inputs (budget, data sizes), the chosen model, validation and evaluation
    # metrics per model, every search trial, and the seconds of each stage.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    hyperparameters = models.JSONField(_("chosen hyperparameters"), default=dict, blank=True)
    validation = models.JSONField(_("validation metrics"), default=dict, blank=True)
    evaluation = models.JSONField(_("evaluation metrics"), default=dict, blank=True)
    trials = models.JSONField(_("search trials"), default=list, blank=True)
    timings = models.JSONField(_("timings"), default=dict, blank=True)
    # Popularity lists for gaps and cold start (product ids, best first).
    popular = models.JSONField(_("popular products"), default=list, blank=True)
    popular_by_category = models.JSONField(_("popular per category"), default=dict, blank=True)
    n_members = models.PositiveIntegerField(_("members"), default=0)
    n_products = models.PositiveIntegerField(_("products"), default=0)
    n_events = models.PositiveIntegerField(_("events"), default=0)
    lists_purged = models.BooleanField(_("lists purged"), default=False)
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="live"),
                name="recommend_one_live_version",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.pk} ({self.get_status_display()})"


class ModelArtefact(models.Model):
    """What fold-in needs (item index, pruned similarities, item factors, popularity),
    zlib-compressed pickle in the database so web and worker processes on any
    machine share it."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="artefact")
    data = models.BinaryField(_("data"))
    size = models.PositiveIntegerField(_("bytes"), default=0)

    class Meta:
        verbose_name = _("model artefact")
        verbose_name_plural = _("model artefacts")
        ordering = ["-version_id"]

    def __str__(self) -> str:
        return f"artefact of v{self.version_id}"


class MemberList(models.Model):
    """A member's top-N list of one version: product ids and scores, best first."""

    class Source(models.TextChoices):
        TRAINING = "training", _("Training")
        FOLD_IN = "fold_in", _("Fold-in")

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="member_lists")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    items = models.JSONField(_("products"), default=list)
    scores = models.JSONField(_("scores"), default=list)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.TRAINING
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("member list")
        verbose_name_plural = _("member lists")
        ordering = ["version_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="recommend_member_list_unique")
        ]
        indexes = [models.Index(fields=["user", "version"], name="recommend_member_list_user")]

    def __str__(self) -> str:
        return f"v{self.version_id} member {self.user_id}"


class ItemList(models.Model):
    """Similar items or bought-together items of one product in one version."""

    class Kind(models.TextChoices):
        SIMILAR = "similar", _("Similar items")
        BOUGHT_TOGETHER = "bought", _("Bought together")

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="item_lists")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    items = models.JSONField(_("products"), default=list)
    scores = models.JSONField(_("scores"), default=list)
    # bought together: [support, confidence, lift] per item
    stats = models.JSONField(_("statistics"), default=list, blank=True)

    class Meta:
        verbose_name = _("item list")
        verbose_name_plural = _("item lists")
        ordering = ["version_id", "product_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind", "product"], name="recommend_item_list_unique"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version_id} {self.kind} of {self.product_id}"


class ServedList(models.Model):
    """One list shown to a shopper (the impression log): its items, where, which version."""

    class Context(models.TextChoices):
        HOME = "home", _("For you")
        CART = "cart", _("You may also like")
        SIMILAR = "similar", _("Similar items")
        BOUGHT_TOGETHER = "bought", _("Bought together")
        SEARCH = "search", _("Search re-ranking")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    context = models.CharField(_("context"), max_length=8, choices=Context.choices)
    version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    anchor_product_id = models.BigIntegerField(_("anchor product"), null=True, blank=True)
    items = models.JSONField(_("products"), default=list)
    created_at = models.DateTimeField(_("served at"), default=timezone.now)

    class Meta:
        verbose_name = _("served list")
        verbose_name_plural = _("served lists")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="recommend_served_user_time"),
            models.Index(fields=["version", "context"], name="recommend_served_version"),
        ]

    def __str__(self) -> str:
        return f"list {self.pk} ({self.context})"


class ListClick(models.Model):
    """A click on an item of a served list (list id + position; the version is the list's)."""

    served_list = models.ForeignKey(ServedList, on_delete=models.CASCADE, related_name="clicks")
    product_id = models.BigIntegerField(_("product"))
    position = models.PositiveSmallIntegerField(_("position"))
    created_at = models.DateTimeField(_("clicked at"), default=timezone.now)

    class Meta:
        verbose_name = _("click")
        verbose_name_plural = _("clicks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"click on {self.product_id} in list {self.served_list_id}"
