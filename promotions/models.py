"""Promotions (促销活动), coupons (优惠券) and the points ledger (积分).

Money is Decimal(12, 2); points are whole numbers. Audience scopes (tiers,
segments, tags) are stored as codes: the membership app owns what they mean
and is read through ``settings.PROMOTIONS_AUDIENCE_PROVIDER``
(``promotions.audience``). Counters (uses, budget spent, coupon uses, stock)
only move by guarded ``F()`` updates in ``promotions.services``; database
constraints are the last line. The points ledger is append-only: an entry's
amount never changes; only an earn lot's ``remaining`` (what FIFO spending and
expiry have not consumed yet) goes down.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.content import localized
from promotions.cache import promotions_live_invalidate

ZERO = Decimal("0.00")


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


class AudienceScoped(models.Model):
    """Who may benefit: empty lists mean everyone (members and, for promotions, visitors)."""

    tier_codes = models.JSONField(
        _("tiers"), default=list, blank=True, help_text=_("Tier codes; empty: every tier.")
    )
    min_tier_rank = models.PositiveSmallIntegerField(
        _("lowest tier rank"),
        null=True,
        blank=True,
        help_text=_("Members of this tier rank or higher; empty: no rank condition."),
    )
    segment_codes = models.JSONField(
        _("segments"), default=list, blank=True, help_text=_("Segment codes; empty: everyone.")
    )
    tag_codes = models.JSONField(
        _("member tags"), default=list, blank=True, help_text=_("Tag codes; empty: everyone.")
    )

    class Meta:
        abstract = True

    @property
    def has_audience(self) -> bool:
        return bool(self.tier_codes or self.segment_codes or self.tag_codes or self.min_tier_rank)


class PromotionQuerySet(models.QuerySet):
    """``update()`` of anything but the counters (uses, spent) invalidates the cached live
    set, like a save does (bulk admin changes, scripts)."""

    COUNTERS = frozenset({"uses", "spent"})

    def update(self, **kwargs):
        updated = super().update(**kwargs)
        if set(kwargs) - self.COUNTERS:
            promotions_live_invalidate()
        return updated


class Promotion(AudienceScoped):
    """A pricing rule for a period; ``promotions.rules`` turns it into a condition and a
    benefit, and the engine chooses among competing ones."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("Spend-threshold reduction")
        PERCENT_OFF = "percent_off", _("Percentage off")
        FIXED_OFF = "fixed_off", _("Fixed amount off")
        BUY_N_GET_M = "buy_n_get_m", _("Buy N, get M free")
        FREE_SHIPPING = "free_shipping", _("Free shipping above an amount")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Threshold: [["200.00", "20.00"], ["500.00", "60.00"]] (spend, off), highest reached wins.
    tiers = models.JSONField(
        _("thresholds"),
        default=list,
        blank=True,
        help_text=_('Spend-threshold steps as [["200.00", "20.00"], ["500.00", "60.00"]].'),
    )
    repeat = models.BooleanField(
        _("repeat"),
        default=False,
        help_text=_("Every time the spend reaches the (single) threshold again: 每满200减20."),
    )
    percent = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    amount = money_field(_("amount off"), null=True, blank=True, default=None)
    max_discount = money_field(_("largest discount"), null=True, blank=True, default=None)
    min_spend = money_field(
        _("minimum spend"),
        help_text=_("On the items in scope; for free shipping, the amount it starts from."),
    )
    buy_quantity = models.PositiveSmallIntegerField(_("buy N"), null=True, blank=True)
    free_quantity = models.PositiveSmallIntegerField(_("get M free"), null=True, blank=True)
    categories = models.ManyToManyField(
        "catalog.Category", blank=True, related_name="+", verbose_name=_("categories")
    )
    brands = models.ManyToManyField(
        "catalog.Brand", blank=True, related_name="+", verbose_name=_("brands")
    )
    products = models.ManyToManyField(
        "catalog.Product", blank=True, related_name="+", verbose_name=_("products")
    )
    starts_at = models.DateTimeField(_("starts"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Higher first when promotions stack.")
    )
    exclusive = models.BooleanField(
        _("exclusive"),
        default=False,
        help_text=_("Cannot be combined with other promotions (the best choice wins)."),
    )
    per_member_limit = models.PositiveIntegerField(
        _("uses per member"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    budget = money_field(
        _("budget"),
        null=True,
        blank=True,
        default=None,
        help_text=_("Total discount it may give; empty: unlimited."),
    )
    spent = money_field(_("discount given"))
    uses = models.PositiveIntegerField(_("orders"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PromotionQuerySet.as_manager()

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-priority", "code"]
        indexes = [models.Index(fields=["is_active", "starts_at"], name="promo_active_start")]
        constraints = [
            models.CheckConstraint(condition=Q(spent__gte=0), name="promo_spent_gte_0"),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(spent__lte=F("budget")),
                name="promo_spent_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    @property
    def display_name(self) -> str:
        return localized(self, "name")


class CouponCampaign(AudienceScoped):
    """A coupon design: its value, conditions, validity, limits and return policy."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("Fixed amount")
        PERCENT = "percent", _("Percentage")

    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.FIXED)
    value = models.DecimalField(
        _("value"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("An amount, or a percentage (1-100) for percentage coupons."),
    )
    max_discount = money_field(_("largest discount"), null=True, blank=True, default=None)
    min_spend = money_field(_("minimum spend"), help_text=_("On the items in scope."))
    categories = models.ManyToManyField(
        "catalog.Category", blank=True, related_name="+", verbose_name=_("categories")
    )
    brands = models.ManyToManyField(
        "catalog.Brand", blank=True, related_name="+", verbose_name=_("brands")
    )
    starts_at = models.DateTimeField(_("valid from"), default=timezone.now)
    ends_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    public_code = models.CharField(
        _("public code"),
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        help_text=_("A code any member may claim into their wallet (or enter at checkout)."),
    )
    total_limit = models.PositiveIntegerField(
        _("total uses"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    per_member_limit = models.PositiveIntegerField(
        _("uses per member"), null=True, blank=True, default=1, help_text=_("Empty: unlimited.")
    )
    used_count = models.PositiveIntegerField(_("used"), default=0)
    issued_count = models.PositiveIntegerField(_("issued"), default=0)
    combinable_with_promotions = models.BooleanField(
        _("can be combined with promotions"),
        default=True,
        help_text=_(
            "When not, an order gets either the promotions or this coupon, whichever saves "
            "the shopper more."
        ),
    )
    valid_days = models.PositiveIntegerField(
        _("valid for days after claim or issue"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A coupon in a wallet expires this many days after it was claimed or issued "
            "(and never after the campaign ends); empty: until the campaign ends."
        ),
    )
    return_on_cancel = models.BooleanField(
        _("return the coupon when the order is cancelled"), default=True
    )
    return_on_refund = models.BooleanField(
        _("return the coupon when the order is fully refunded"), default=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("coupon campaign")
        verbose_name_plural = _("coupon campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_limit__isnull=True) | Q(used_count__lte=F("total_limit")),
                name="promo_campaign_used_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.is_active
            and self.starts_at <= now
            and (self.ends_at is None or now < self.ends_at)
        )


class Coupon(models.Model):
    """One code of a campaign: generated in bulk (single use, anyone holding it), claimed
    from a public code or issued to a member (then only its owner may use it)."""

    class Source(models.TextChoices):
        GENERATED = "generated", _("Generated code")
        CLAIMED = "claimed", _("Claimed")
        ISSUED = "issued", _("Issued by the shop")
        EXCHANGE = "exchange", _("Points exchange")

    campaign = models.ForeignKey(CouponCampaign, on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(_("code"), max_length=32, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coupons",
        verbose_name=_("member"),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    max_uses = models.PositiveIntegerField(_("uses allowed"), default=1)
    used_count = models.PositiveIntegerField(_("used"), default=0)
    batch = models.CharField(_("batch"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    claimed_at = models.DateTimeField(_("in wallet since"), null=True, blank=True)
    # The coupon's own expiry (the campaign's ``valid_days`` after claim or issue); the
    # campaign's end applies as well.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "campaign"], name="promo_coupon_owner")]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_count__lte=F("max_uses")), name="promo_coupon_used_within_max"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_used_up(self) -> bool:
        return self.used_count >= self.max_uses

    def is_expired(self, now=None) -> bool:
        """Past its own expiry (the campaign's window is checked apart)."""
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at

    @property
    def valid_until(self):
        """When it stops being usable: its own expiry or the campaign's end, the earlier."""
        ends = [t for t in (self.expires_at, self.campaign.ends_at) if t is not None]
        return min(ends) if ends else None


class CouponRedemption(models.Model):
    """A coupon used on an order; ``returned`` when a cancellation or refund gave it back."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Used")
        RETURNED = "returned", _("Returned")

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    campaign = models.ForeignKey(
        CouponCampaign, on_delete=models.PROTECT, related_name="redemptions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coupon_redemptions"
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="coupon_redemptions"
    )
    amount = money_field(_("discount"), default=None)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "user"], name="promo_redemption_member")]
        constraints = [
            models.UniqueConstraint(fields=["coupon", "order"], name="promo_redemption_once"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id} on order {self.order_id}"


class OrderDiscount(models.Model):
    """What one source took off one order (the record refunds and reports read):
    a promotion, a coupon or points, with its allocation to the order lines."""

    class Source(models.TextChoices):
        PROMOTION = "promotion", _("Promotion")
        COUPON = "coupon", _("Coupon")
        POINTS = "points", _("Points")
        # A free-shipping promotion: the fee it waived (not part of the order's discounts).
        SHIPPING = "shipping", _("Free shipping")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Applied")
        RETURNED = "returned", _("Returned")

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="discount_records"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=200)
    amount = money_field(_("amount"), default=None)
    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, null=True, blank=True, related_name="order_discounts"
    )
    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="order_discounts"
    )
    points = models.PositiveIntegerField(_("points spent"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("order discount")
        verbose_name_plural = _("order discounts")
        ordering = ["order_id", "id"]
        indexes = [
            models.Index(fields=["promotion", "user"], name="promo_orderdiscount_member"),
            models.Index(fields=["source", "created_at"], name="promo_orderdiscount_time"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.code} −{self.amount} on {self.order_id}"


class OrderDiscountLine(models.Model):
    """The part of an ``OrderDiscount`` allocated to one order line."""

    discount = models.ForeignKey(OrderDiscount, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(
        "orders.OrderItem", on_delete=models.CASCADE, related_name="discount_lines"
    )
    amount = money_field(_("amount"), default=None)

    class Meta:
        verbose_name = _("order discount line")
        verbose_name_plural = _("order discount lines")
        ordering = ["discount_id", "id"]

    def __str__(self) -> str:
        return f"−{self.amount} on item {self.item_id}"


class PointsAccount(models.Model):
    """One row per member: the lock every points movement takes, and the running balance
    (always equal to the sum of the member's ledger entries; never negative)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_account"
    )
    balance = models.IntegerField(_("balance"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        ordering = ["user_id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="promo_points_balance_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class PointsEntry(models.Model):
    """One line of the append-only points ledger (积分明细)."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        SPEND = "spend", _("Spent")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Reversed (refund)")
        RETURN = "return", _("Returned")
        ADJUST = "adjust", _("Adjustment")
        EXCHANGE = "exchange", _("Exchanged")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_entries"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    amount = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="points_entries",
    )
    # What makes the entry unique ("earn:order:12"): replays and retries add nothing.
    ref = models.CharField(_("reference"), max_length=80, blank=True)
    # A credit is a lot: it expires at ``expires_at`` and ``remaining`` is what spending
    # (oldest expiry first) and expiry have not consumed yet.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    remaining = models.IntegerField(_("remaining"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="promo_points_user_time"),
            models.Index(
                fields=["expires_at"],
                condition=Q(remaining__gt=0),
                name="promo_points_open_lots",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="promo_points_nonzero"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0)
                & (Q(amount__gt=0, remaining__lte=F("amount")) | Q(remaining=0)),
                name="promo_points_remaining_within_lot",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="promo_points_balance_after_gte_0"
            ),
            models.UniqueConstraint(
                fields=["ref"], condition=~Q(ref=""), name="promo_points_ref_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.amount:+d} {self.kind}"

    @property
    def display_reason(self) -> str:
        """The reason in the reader's language for what the shop wrote about an order:
        ``reason`` keeps the language of the request or task that wrote it (a Celery
        task's is the default, English), so a Chinese member read "Order … completed".
        Other entries (staff adjustments, expiry, exchanges, reversals) show ``reason``."""
        from django.utils.translation import gettext

        order = self.order if self.order_id else None
        if order is None:
            return self.reason
        number = {"number": order.number}
        if self.kind == self.Kind.EARN:
            return gettext("Order %(number)s completed") % number
        if self.kind == self.Kind.SPEND:
            return gettext("Used on order %(number)s") % number
        if self.kind == self.Kind.RETURN and self.ref.endswith(":cancel"):
            return gettext("Order %(number)s cancelled") % number
        if self.kind == self.Kind.RETURN and self.ref.startswith("return:refund:"):
            return gettext("Points back for the refund on order %(number)s") % number
        return self.reason


class ExchangeItem(models.Model):
    """Something members exchange points for (积分兑换): a coupon or a gift product."""

    class Kind(models.TextChoices):
        COUPON = "coupon", _("Coupon")
        GIFT = "gift", _("Gift product")

    name = models.CharField(_("name"), max_length=120)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120, blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    campaign = models.ForeignKey(
        CouponCampaign,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exchange_items",
        verbose_name=_("coupon campaign"),
    )
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gift product"),
    )
    points_cost = models.PositiveIntegerField(_("points"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(_("stock"), default=0)
    per_member_limit = models.PositiveIntegerField(
        _("per member"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.IntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("exchange item")
        verbose_name_plural = _("exchange items")
        ordering = ["position", "points_cost", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="coupon") & Q(campaign__isnull=False))
                | (Q(kind="gift") & Q(product__isnull=False)),
                name="promo_exchange_item_has_target",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return localized(self, "name")


class PointsExchange(models.Model):
    """A member's exchange: the points spent and what they got (a wallet coupon, or a
    gift that staff ship to the address copied here)."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        TO_SHIP = "to_ship", _("To ship")
        SHIPPED = "shipped", _("Shipped")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="points_exchanges"
    )
    item = models.ForeignKey(ExchangeItem, on_delete=models.PROTECT, related_name="exchanges")
    points = models.PositiveIntegerField(_("points"))
    coupon = models.ForeignKey(
        Coupon, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    ship_to = models.CharField(_("ship to"), max_length=400, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("points exchange")
        verbose_name_plural = _("points exchanges")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "user"], name="promo_exchange_member")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="promo_exchange_idempotency_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.item_id} for {self.points}"
