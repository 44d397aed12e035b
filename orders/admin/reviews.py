"""Admin: reviews and moderation, sentiment models.

Staff read reviews and hide or show them (actions that go through
``orders.reviews.review_set_hidden``); the text stays the member's. Sentiment
models are read-only; "Train now" enqueues the training task.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders import reviews
from orders.models import Review, ReviewImage, SentimentModel
from orders.tasks.reviews import train_sentiment


class ReviewImageInline(admin.TabularInline):
    model = ReviewImage
    extra = 0
    fields = ("image", "position")
    readonly_fields = ("image", "position")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "product",
        "user",
        "rating",
        "sentiment",
        "sentiment_source",
        "is_hidden",
        "created_at",
    )
    list_filter = ("rating", "is_hidden", "sentiment_source", "created_at")
    search_fields = (
        "product__name",
        "product__sku",
        "item__sku",
        "item__product_name",
        "user__email",
        "title",
        "body",
    )
    list_select_related = ("product", "user")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    inlines = [ReviewImageInline]
    actions = ["hide_reviews", "show_reviews"]
    fields = (
        "item",
        "user",
        "product",
        "rating",
        "title",
        "body",
        "is_hidden",
        "sentiment",
        "sentiment_source",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def _set_hidden(self, request: HttpRequest, queryset, hidden: bool) -> None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        for review_id in ids:
            reviews.review_set_hidden(review_id=review_id, hidden=hidden, by=request.user)
        message = (
            ngettext("%(count)d review hidden.", "%(count)d reviews hidden.", len(ids))
            if hidden
            else ngettext("%(count)d review shown.", "%(count)d reviews shown.", len(ids))
        )
        self.message_user(request, message % {"count": len(ids)}, messages.SUCCESS)

    @admin.action(description=_("Hide selected reviews"), permissions=["change"])
    def hide_reviews(self, request, queryset) -> None:
        self._set_hidden(request, queryset, True)

    @admin.action(description=_("Show selected reviews"), permissions=["change"])
    def show_reviews(self, request, queryset) -> None:
        self._set_hidden(request, queryset, False)


@admin.register(SentimentModel)
class SentimentModelAdmin(admin.ModelAdmin):
    change_list_template = "admin/orders/sentimentmodel/change_list.html"
    list_display = (
        "id",
        "trained_at",
        "reviews_used",
        "accuracy",
        "baseline_accuracy",
        "holdout_auc",
        "chosen_settings",
        "is_active",
    )
    list_filter = ("is_active",)
    ordering = ("-trained_at", "-id")
    fields = (
        "trained_at",
        "reviews_used",
        "accuracy",
        "baseline_accuracy",
        "params",
        "is_active",
    )
    readonly_fields = fields
    actions = ["train_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("blob")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("hold-out AUC"))
    def holdout_auc(self, obj) -> str:
        value = (obj.params or {}).get("holdout_auc")
        return "—" if value is None else f"{value:.3f}"

    @admin.display(description=_("settings chosen by cross-validation"))
    def chosen_settings(self, obj) -> str:
        best = (obj.params or {}).get("best") or {}
        return ", ".join(f"{k.split('__')[-1]}={v}" for k, v in sorted(best.items())) or "—"

    def _enqueue_training(self, request) -> None:
        transaction.on_commit(lambda: train_sentiment.delay(force=True))
        self.message_user(
            request,
            _(
                "Training has been queued. The new model appears here when it is done, "
                "if there are enough rated reviews."
            ),
            messages.SUCCESS,
        )

    @admin.action(description=_("Train now"), permissions=["view"])
    def train_now(self, request, queryset) -> None:
        self._enqueue_training(request)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "train/",
                self.admin_site.admin_view(self.train_view),
                name=f"{info[0]}_{info[1]}_train",
            ),
            *super().get_urls(),
        ]

    def train_view(self, request):
        """POST: enqueue training (works with no model yet, unlike an action)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._enqueue_training(request)
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        )
