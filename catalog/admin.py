from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.models import Brand, Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh_hans", "parent", "slug", "position", "is_active"]
    list_display_links = ["name"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "name_zh_hans", "slug", "parent__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    ordering = ["parent__name", "position", "name"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "parent", "description", "position", "is_active"]}),
        (_("Chinese (简体中文)"), {"fields": ["name_zh_hans"]}),
    ]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class InStockFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "in_stock"

    def lookups(self, request, model_admin):
        return [("yes", _("In stock")), ("no", _("Out of stock"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(stock__gt=0)
        if self.value() == "no":
            return queryset.filter(stock=0)
        return queryset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "name_zh_hans",
        "sku",
        "category",
        "brand",
        "price",
        "stock",
        "is_active",
        "updated_at",
    ]
    list_display_links = ["name"]
    list_editable = ["price", "stock", "is_active"]
    list_filter = [
        "is_active",
        InStockFilter,
        ("category", admin.RelatedOnlyFieldListFilter),
        ("brand", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["category", "brand"]
    list_per_page = 50
    search_fields = ["sku", "name", "name_zh_hans", "external_id"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["category", "brand"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
    actions = ["activate", "deactivate"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "sku", "external_id", "category", "brand"]}),
        (_("Price and stock"), {"fields": ["price", "list_price", "stock", "is_active"]}),
        (_("Details"), {"fields": ["description", "attributes", "image"]}),
        (_("Chinese (简体中文)"), {"fields": ["name_zh_hans", "description_zh_hans"]}),
        (_("Timestamps"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.action(description=_("Activate selected products"), permissions=["change"])
    def activate(self, request, queryset: QuerySet[Product]) -> None:
        count = queryset.update(is_active=True)
        self.message_user(
            request,
            ngettext("%d product activated.", "%d products activated.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Deactivate selected products"), permissions=["change"])
    def deactivate(self, request, queryset: QuerySet[Product]) -> None:
        count = queryset.update(is_active=False)
        self.message_user(
            request,
            ngettext("%d product deactivated.", "%d products deactivated.", count) % count,
            messages.SUCCESS,
        )
