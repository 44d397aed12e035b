"""The catalogue: a category tree, brands and products with price and stock."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.content import localized


class Category(models.Model):
    """A node of the category tree (departments at the root)."""

    name = models.CharField(_("name"), max_length=100)
    name_zh_hans = models.CharField(
        _("name (Simplified Chinese)"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("Shown to shoppers browsing in Chinese; empty shows the English name."),
    )
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="catalog_category_unique_name"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="catalog_category_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("browsing:category", args=[self.slug])

    @property
    def display_name(self) -> str:
        """The name in the active language (Chinese when given, else English)."""
        return localized(self, "name")


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A sellable product. ``price`` is what a shopper pays; ``list_price`` the
    crossed-out reference price, when there is one. Money is Decimal in the
    shop's currency (settings.SHOP_CURRENCY)."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    external_id = models.CharField(
        _("external id"), max_length=64, unique=True, null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=200)
    name_zh_hans = models.CharField(
        _("name (Simplified Chinese)"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("Shown to shoppers browsing in Chinese; empty shows the English name."),
    )
    slug = models.SlugField(_("slug"), max_length=220, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    description_zh_hans = models.TextField(
        _("description (Simplified Chinese)"),
        blank=True,
        default="",
        help_text=_("Shown to shoppers browsing in Chinese; empty shows the English description."),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("brand"),
    )
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    list_price = models.DecimalField(
        _("list price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    stock = models.PositiveIntegerField(_("stock"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    image = models.ImageField(_("image"), upload_to="products/%Y/%m/", null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["category", "is_active", "price"], name="catalog_prod_cat_price"),
            models.Index(fields=["brand", "is_active"], name="catalog_prod_brand"),
            models.Index(fields=["is_active", "-created_at"], name="catalog_prod_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="catalog_product_price_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(list_price__isnull=True)
                | models.Q(list_price__gte=models.F("price")),
                name="catalog_product_list_price_gte_price",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("browsing:product", args=[self.pk, self.slug or "p"])

    @property
    def display_name(self) -> str:
        """The name in the active language (Chinese when given, else English)."""
        return localized(self, "name")

    @property
    def display_description(self) -> str:
        """The description in the active language (Chinese when given, else English)."""
        return localized(self, "description")

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def is_purchasable(self) -> bool:
        return self.is_active and self.stock > 0

    @property
    def discount_percent(self) -> int | None:
        if self.list_price and self.list_price > self.price:
            return int((1 - self.price / self.list_price) * 100)
        return None
