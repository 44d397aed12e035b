"""Membership: tiers and privileges, each member's tier and its history, the computed
member profile (用户画像), segments (RFM and clusters) with their size history, and the
loyalty/value predictions.

Everything computed here (stats, profiles, segments, scores) is derived from the orders
tables, reviews and the behaviour log, so it can always be rebuilt
(``manage.py membership_rebuild``); tier changes are an append-only history.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


class Tier(models.Model):
    """A membership tier (会员等级) with its qualification and privileges (会员权益).

    A member qualifies when their completed-order spend over the last
    ``MEMBERSHIP_QUALIFYING_DAYS`` days reaches ``min_spend`` **and/or** their
    completed orders reach ``min_orders`` (``qualify_rule``); optionally also the
    points earned (``min_points``, read through ``MEMBERSHIP_POINTS_EARNED_PROVIDER``).
    The tier with rank 0 is the entry tier every member holds.
    """

    class Rule(models.TextChoices):
        ANY = "any", _("Spend or orders")
        ALL = "all", _("Spend and orders")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=64, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    min_spend = money_field(_("qualifying spend"))
    min_orders = models.PositiveIntegerField(_("qualifying orders"), default=0)
    min_points = models.PositiveIntegerField(
        _("qualifying points"), default=0, help_text=_("0: points are not a criterion.")
    )
    qualify_rule = models.CharField(
        _("qualification"), max_length=4, choices=Rule.choices, default=Rule.ANY
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    discount_percent = models.DecimalField(
        _("member discount %"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("50"))],
    )
    free_shipping_threshold = models.DecimalField(
        _("free shipping from"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: the shop's threshold. 0: always free."),
    )
    exclusive_promotions = models.BooleanField(_("exclusive promotions"), default=False)
    priority_service = models.BooleanField(_("priority service"), default=False)
    exclusive_products = models.ManyToManyField(
        "catalog.Product",
        blank=True,
        related_name="exclusive_tiers",
        verbose_name=_("exclusive products"),
        help_text=_("Only members of this tier or above may buy them."),
    )
    description = models.TextField(_("description"), blank=True)
    description_zh_hans = models.TextField(_("description (Simplified Chinese)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_spend__gte=0), name="tier_spend_gte_0"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0) & models.Q(discount_percent__lte=50),
                name="tier_discount_0_50",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if (get_language() or "").lower().startswith("zh") and self.name_zh_hans:
            return self.name_zh_hans
        return self.name

    @property
    def display_description(self) -> str:
        if (get_language() or "").lower().startswith("zh") and self.description_zh_hans:
            return self.description_zh_hans
        return self.description


class Membership(models.Model):
    """A member's current tier; changed only by ``membership.tiers`` (with a TierChange)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="memberships")
    since = models.DateTimeField(_("in this tier since"), default=timezone.now)
    review_at = models.DateTimeField(_("next review"), db_index=True)
    # Rolling-window figures at the last evaluation (for pages and admin lists).
    qualifying_spend = money_field(_("qualifying spend"))
    qualifying_orders = models.PositiveIntegerField(_("qualifying orders"), default=0)
    evaluated_at = models.DateTimeField(_("evaluated at"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.tier.code}"


class TierChange(models.Model):
    """Append-only history of a member's tier (from → to, why, when)."""

    class Reason(models.TextChoices):
        JOINED = "joined", _("Joined")
        QUALIFIED = "qualified", _("Qualified by orders")
        REVIEW = "review", _("Periodic review")
        REBUILD = "rebuild", _("Recalculated from order history")
        STAFF = "staff", _("Changed by staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tier_changes"
    )
    from_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    qualifying_spend = money_field(_("qualifying spend"))
    qualifying_orders = models.PositiveIntegerField(_("qualifying orders"), default=0)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="member_tierchange_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.from_tier_id} → {self.to_tier_id} ({self.reason})"


class MemberProfile(models.Model):
    """The computed member profile (用户画像); ``data`` is the output of
    ``membership.profiles.profile_compute`` and is never edited by hand.

    ``overrides`` holds the member's corrections (hidden interests), respected by
    the incremental update and the nightly rebuild alike.
    """

    class Lifecycle(models.TextChoices):
        PROSPECT = "prospect", _("Prospect (no order yet)")
        NEW = "new", _("New")
        ACTIVE = "active", _("Active")
        AT_RISK = "at_risk", _("At risk")
        LAPSED = "lapsed", _("Lapsed")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_profile"
    )
    data = models.JSONField(_("profile"), default=dict, blank=True)
    overrides = models.JSONField(_("member corrections"), default=dict, blank=True)
    lifecycle = models.CharField(
        _("lifecycle stage"),
        max_length=12,
        choices=Lifecycle.choices,
        default=Lifecycle.PROSPECT,
        db_index=True,
    )
    rfm_segment = models.CharField(_("RFM segment"), max_length=16, blank=True, db_index=True)
    cluster = models.CharField(_("cluster"), max_length=16, blank=True, db_index=True)
    tags = models.JSONField(_("profile tags"), default=list, blank=True)
    orders_count = models.PositiveIntegerField(_("completed orders"), default=0)
    total_spend = money_field(_("total spend"))
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member profile")
        verbose_name_plural = _("member profiles")
        ordering = ["user_id"]

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class Segment(models.Model):
    """A group of members (用户分群): an RFM segment or a K-means cluster."""

    class Kind(models.TextChoices):
        RFM = "rfm", _("RFM segment")
        CLUSTER = "cluster", _("Behaviour cluster")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    # Clusters: centre (z-scores per feature) and the features that distinguish it.
    profile = models.JSONField(_("profile"), default=dict, blank=True)
    size = models.PositiveIntegerField(_("members"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class SegmentMembership(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segment_memberships"
    )
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        ordering = ["segment_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "user"], name="member_segment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.segment_id}"


class SegmentRun(models.Model):
    """One rebuild of the segments: sizes, movements between segments, the chosen k."""

    created_at = models.DateTimeField(default=timezone.now)
    members = models.PositiveIntegerField(default=0)
    # {"rfm": {code: size}, "cluster": {code: size}}
    sizes = models.JSONField(default=dict)
    # {"rfm": {"from>to": n}, "cluster": {...}}: members who moved since the last run.
    movements = models.JSONField(default=dict)
    params = models.JSONField(default=dict)  # k, silhouette per k, sample size, features

    class Meta:
        verbose_name = _("segment rebuild")
        verbose_name_plural = _("segment rebuilds")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"segments at {self.created_at:%Y-%m-%d %H:%M}"


class MemberScore(models.Model):
    """The latest loyalty/value prediction of a member (``membership.prediction``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_score"
    )
    as_of = models.DateField(_("as of"))
    horizon_days = models.PositiveIntegerField(_("horizon (days)"))
    p_return = models.FloatField(_("probability of ordering again"))
    expected_orders = models.FloatField(_("expected orders"))
    expected_spend = money_field(_("expected spend"))
    at_risk = models.BooleanField(_("churn risk"), default=False, db_index=True)
    high_potential = models.BooleanField(_("high potential"), default=False, db_index=True)
    advice = models.CharField(_("advice"), max_length=255, blank=True)
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("member score")
        verbose_name_plural = _("member scores")
        ordering = ["-expected_spend", "user_id"]

    def __str__(self) -> str:
        return f"{self.user_id}: p={self.p_return:.2f}"
