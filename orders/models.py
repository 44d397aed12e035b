"""Carts, orders and their lifecycle, payments, refunds and reviews.

Money is Decimal(12, 2) everywhere. An order keeps a snapshot of what was
bought (name, SKU, unit price) and of where it goes, so later catalogue or
address edits never change it. Status changes go through
``orders.lifecycle`` only; each one is recorded as an ``OrderStatusChange``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


class Cart(models.Model):
    """One cart per member, or per anonymous visitor (keyed by the visitor id
    kept in their session). A visitor's cart is merged into the member's at login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cart",
    )
    visitor_key = models.CharField(_("visitor"), max_length=40, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(visitor_key__isnull=False),
                name="orders_cart_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"cart {self.pk} ({self.user_id or self.visitor_key})"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="orders_cartitem_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="orders_cartitem_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        PAID = "paid", _("Paid, awaiting shipment")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("Mobile API")
        IMPORT = "import", _("Import")
        SEED = "seed", _("Demo data")

    number = models.CharField(_("order number"), max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING_PAYMENT
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.WEB)
    currency = models.CharField(_("currency"), max_length=3)
    # Sum of line totals before any discount.
    subtotal = money_field(_("subtotal"))
    # Sum of every discount (promotions, coupons, points) allocated to the lines.
    discount_total = money_field(_("discounts"))
    shipping_fee = money_field(_("shipping"))
    total = money_field(_("total"))
    # Amount refunded so far (whole or partial refunds).
    refunded_total = money_field(_("refunded"))
    # Shipping address snapshot.
    recipient_name = models.CharField(_("recipient"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, default="CN")
    province = models.CharField(_("province / state"), max_length=64, blank=True)
    city = models.CharField(_("city"), max_length=64, blank=True)
    district = models.CharField(_("district"), max_length=64, blank=True)
    line1 = models.CharField(_("street address"), max_length=255, blank=True)
    line2 = models.CharField(_("address line 2"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    note = models.CharField(_("note to the shop"), max_length=255, blank=True)
    # Repeating a checkout with the same key returns this order (per member).
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    # Order id on the platform it was imported from, or the demo generator's id.
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    payment_due_at = models.DateTimeField(_("pay before"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-placed_at"], name="orders_order_user_time"),
            models.Index(fields=["status", "placed_at"], name="orders_order_status_time"),
            models.Index(fields=["placed_at"], name="orders_order_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="orders_order_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=models.Q(external_id__isnull=False),
                name="orders_order_external_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="orders_order_total_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_total__gte=0)
                & models.Q(refunded_total__lte=models.F("total")),
                name="orders_order_refund_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:order_detail", args=[self.number])


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    # SET_NULL: the snapshot below is the record; the product may be deleted later.
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order_items",
    )
    product_name = models.CharField(_("product"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64)
    unit_price = money_field(_("unit price"), default=None)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    # unit_price × quantity
    line_total = money_field(_("line total"), default=None)
    # Discounts allocated to this line by the pricing service (promotions,
    # coupons, points); line_total - discount is what the member paid for it.
    discount = money_field(_("discount"))
    refunded_quantity = models.PositiveIntegerField(_("refunded quantity"), default=0)
    refunded_amount = money_field(_("refunded amount"))

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        ordering = ["order_id", "id"]
        indexes = [models.Index(fields=["product", "order"], name="orders_item_product")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="orders_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_quantity__lte=models.F("quantity")),
                name="orders_item_refund_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(discount__gte=0)
                & models.Q(discount__lte=models.F("line_total")),
                name="orders_item_discount_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_name}"

    @property
    def paid_amount(self) -> Decimal:
        return self.line_total - self.discount


class OrderStatusChange(models.Model):
    """One step of an order's timeline: who moved it from what to what, when, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Order.Status.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="orders_change_order_time")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '—'} → {self.to_status}"


class Payment(models.Model):
    """One payment attempt with a provider (``orders.payments``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    provider = models.CharField(_("provider"), max_length=32)
    amount = money_field(_("amount"), default=None)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["created_at", "id"]
        constraints = [
            # At most one successful payment per order.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status="succeeded"),
                name="orders_payment_one_success",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.status}"


class Refund(models.Model):
    """Money returned for a paid order: the whole order or some of its lines."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = money_field(_("amount"), default=None)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    provider_reference = models.CharField(_("provider reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="orders_refund_positive"),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} on {self.order_id}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="refund_lines")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    amount = money_field(_("amount"), default=None)

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × item {self.item_id}"


class Review(models.Model):
    """A member's review (评价) of one purchased order line, after delivery."""

    class SentimentSource(models.TextChoices):
        MODEL = "model", _("Classifier")
        RATING = "rating", _("Rating (no classifier yet)")

    item = models.OneToOneField(OrderItem, on_delete=models.CASCADE, related_name="review")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="reviews", null=True, blank=True
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    title = models.CharField(_("title"), max_length=120, blank=True)
    body = models.TextField(_("review"), max_length=2000, blank=True)
    is_hidden = models.BooleanField(_("hidden by staff"), default=False)
    # Probability-like score in [0, 1]: 0 negative, 1 positive.
    sentiment = models.DecimalField(
        _("sentiment"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    sentiment_source = models.CharField(
        _("sentiment from"), max_length=8, choices=SentimentSource.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["product", "-created_at"], name="orders_review_product_time"),
            models.Index(fields=["user", "-created_at"], name="orders_review_user_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1) & models.Q(rating__lte=5),
                name="orders_review_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ by {self.user_id} on {self.product_id}"


class ReviewImage(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to="reviews/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("review image")
        verbose_name_plural = _("review images")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.image.name


class SentimentModel(models.Model):
    """A trained review-sentiment classifier, stored so web and workers share it."""

    trained_at = models.DateTimeField(default=timezone.now)
    reviews_used = models.PositiveIntegerField()
    # Held-out scores of the classifier and of the rating-only baseline.
    accuracy = models.FloatField(null=True, blank=True)
    baseline_accuracy = models.FloatField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    blob = models.BinaryField()
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("sentiment model")
        verbose_name_plural = _("sentiment models")
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"sentiment model {self.pk} ({self.reviews_used} reviews)"
