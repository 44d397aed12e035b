"""Admin: model versions with progress and metrics side by side, "retrain now",
"roll back to this version", and the served-list / click logs (read-only)."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from recommend import services
from recommend.exceptions import RollbackImpossible
from recommend.models import ListClick, ModelVersion, ServedList
from recommend.tasks import train_recommender


def _metric(version: ModelVersion, name: str, key: str) -> str:
    value = (version.validation or {}).get(name, {}).get(key)
    return f"{value:.4f}" if isinstance(value, int | float) else "—"


def _pair(m: dict) -> str:
    if "hr@10" not in m:
        return ""
    return f"HR@10 {m['hr@10']:.4f} · NDCG@10 {m['ndcg@10']:.4f}"


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "progress_bar",
        "stage",
        "chosen",
        "hr10",
        "ndcg10",
        "n_members",
        "n_products",
        "n_events",
        "created_at",
        "published_at",
    ]
    list_filter = ["status"]
    actions = ["retrain_now", "roll_back_to", "compare"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("progress"))
    def progress_bar(self, obj: ModelVersion) -> str:
        return format_html(
            '<progress max="100" value="{}"></progress> {}%',
            int(obj.progress * 100),
            int(obj.progress * 100),
        )

    @admin.display(description=_("model"))
    def chosen(self, obj: ModelVersion) -> str:
        comps = (obj.hyperparameters or {}).get("components", [])
        return " + ".join(f"{c['family']}×{c['weight']}" for c in comps) or "—"

    def _best(self, obj: ModelVersion) -> str:
        return (
            "hybrid"
            if (obj.hyperparameters or {}).get("hybrid")
            else (((obj.hyperparameters or {}).get("components") or [{}])[0].get("family", ""))
        )

    @admin.display(description="HR@10")
    def hr10(self, obj: ModelVersion) -> str:
        return _metric(obj, self._best(obj), "hr@10")

    @admin.display(description="NDCG@10")
    def ndcg10(self, obj: ModelVersion) -> str:
        return _metric(obj, self._best(obj), "ndcg@10")

    @admin.action(description=_("Retrain now"))
    def retrain_now(self, request, queryset):
        if services.training_is_running():
            self.message_user(
                request, _("A training run is already in progress."), messages.WARNING
            )
            return
        train_recommender.delay(triggered_by=f"admin:{request.user.pk}")
        self.message_user(request, _("Training started; refresh to follow its progress."))

    @admin.action(description=_("Roll back to this version"))
    def roll_back_to(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one version."), messages.ERROR)
            return
        try:
            version = services.version_rollback(version_id=queryset.get().pk)
        except RollbackImpossible as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return
        self.message_user(request, _("%(version)s is live.") % {"version": version})

    @admin.action(description=_("Compare metrics side by side"))
    def compare(self, request, queryset):
        versions = list(queryset.order_by("-created_at")[:6])
        names = []
        for version in versions:
            for name in version.validation or {}:
                if name not in names:
                    names.append(name)
        rows = []
        for name in names:
            cells = []
            for version in versions:
                m = (version.validation or {}).get(name) or {}
                e = ((version.evaluation or {}).get("models") or {}).get(name) or {}
                cells.append({"validation": _pair(m), "evaluation": _pair(e)})
            rows.append({"name": name, "cells": cells})
        return TemplateResponse(
            request,
            "admin/recommend/compare.html",
            {**self.admin_site.each_context(request), "versions": versions, "rows": rows,
             "title": _("Compare model versions")},
        )  # fmt: skip


@admin.register(ServedList)
class ServedListAdmin(admin.ModelAdmin):
    list_display = ["id", "context", "user", "version", "anchor_product_id", "created_at"]
    list_filter = ["context"]
    raw_id_fields = ["user", "version"]
    list_select_related = ["user", "version"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ListClick)
class ListClickAdmin(admin.ModelAdmin):
    list_display = ["id", "served_list", "product_id", "position", "created_at"]
    raw_id_fields = ["served_list"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
