"""Admin: tiers (with privileges), memberships, tier changes, member profiles (computed,
read-only), segments with their history, and scores (the at-risk list)."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from membership import tasks
from membership.models import (
    MemberProfile,
    MemberScore,
    Membership,
    Segment,
    SegmentRun,
    Tier,
    TierChange,
)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = (
        "rank",
        "code",
        "name",
        "name_zh_hans",
        "min_spend",
        "min_orders",
        "qualify_rule",
        "points_multiplier",
        "discount_percent",
        "free_shipping_threshold",
        "exclusive_promotions",
        "priority_service",
        "is_active",
    )
    list_display_links = ("code", "name")
    autocomplete_fields = ("exclusive_products",)
    fieldsets = (
        (None, {"fields": ("code", "name", "name_zh_hans", "rank", "is_active")}),
        (
            _("Qualification (rolling 12 months)"),
            {"fields": ("min_spend", "min_orders", "qualify_rule", "min_points")},
        ),
        (
            _("Privileges"),
            {
                "fields": (
                    "points_multiplier",
                    "discount_percent",
                    "free_shipping_threshold",
                    "exclusive_promotions",
                    "priority_service",
                    "exclusive_products",
                )
            },
        ),
        (_("Shown to members"), {"fields": ("description", "description_zh_hans")}),
    )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tier", "since", "review_at", "qualifying_spend", "qualifying_orders")
    list_filter = ("tier",)
    search_fields = ("user__email", "user__external_id")
    list_select_related = ("user", "tier")
    fields = (
        "user",
        "tier",
        "since",
        "review_at",
        "qualifying_spend",
        "qualifying_orders",
        "evaluated_at",
    )
    readonly_fields = (
        "user",
        "since",
        "review_at",
        "qualifying_spend",
        "qualifying_orders",
        "evaluated_at",
    )
    actions = ["reevaluate"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        """A tier chosen by staff goes through the tier service (a "staff" TierChange)."""
        from membership.tiers import tier_set

        if "tier" in form.changed_data:
            tier_set(user_id=obj.user_id, tier=form.cleaned_data["tier"], note=str(request.user))

    @admin.action(description=_("Re-evaluate the tier (upgrade if qualified)"))
    def reevaluate(self, request, queryset):
        for user_id in queryset.values_list("user_id", flat=True):
            tasks.evaluate_member_tier.delay(user_id)
        self.message_user(request, _("Re-evaluation queued."), messages.SUCCESS)


@admin.register(TierChange)
class TierChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "from_tier", "to_tier", "reason", "qualifying_spend")
    list_filter = ("reason", "to_tier")
    search_fields = ("user__email", "user__external_id")
    list_select_related = ("user", "from_tier", "to_tier")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MemberProfile)
class MemberProfileAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "lifecycle",
        "rfm_segment",
        "cluster",
        "orders_count",
        "total_spend",
        "last_order_at",
        "computed_at",
    )
    list_filter = ("lifecycle", "rfm_segment", "cluster")
    search_fields = ("user__email", "user__external_id")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "lifecycle",
        "rfm_segment",
        "cluster",
        "orders_count",
        "total_spend",
        "last_order_at",
        "computed_at",
        "pretty_data",
        "overrides",
    )
    exclude = ("data", "tags")
    actions = ["refresh"]

    @admin.display(description=_("profile"))
    def pretty_data(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False))

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Recompute the profile now"))
    def refresh(self, request, queryset):
        for user_id in queryset.values_list("user_id", flat=True):
            tasks.refresh_member_profile.delay(user_id)
        self.message_user(request, _("Profile updates queued."), messages.SUCCESS)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "name", "size", "is_active", "updated_at")
    list_filter = ("kind", "is_active")
    readonly_fields = ("code", "kind", "name", "description", "profile", "size", "updated_at")
    actions = ["rebuild"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Rebuild all segments now"))
    def rebuild(self, request, queryset):
        from membership.segments import segments_rebuild

        run = segments_rebuild()
        self.message_user(
            request, _("Segments rebuilt: %(k)s clusters.") % {"k": run.params.get("k")}
        )


@admin.register(SegmentRun)
class SegmentRunAdmin(admin.ModelAdmin):
    list_display = ("created_at", "members", "sizes")
    readonly_fields = ("created_at", "members", "sizes", "movements", "params")

    def has_add_permission(self, request):
        return False


@admin.register(MemberScore)
class MemberScoreAdmin(admin.ModelAdmin):
    """Predictions; filter "churn risk" for the at-risk list staff follow up."""

    list_display = (
        "user",
        "p_return",
        "expected_orders",
        "expected_spend",
        "at_risk",
        "high_potential",
        "advice",
        "as_of",
        "horizon_days",
    )
    list_filter = ("at_risk", "high_potential", "as_of")
    search_fields = ("user__email", "user__external_id", "advice")
    list_select_related = ("user",)
    readonly_fields = list_display + ("scored_at",)

    def has_add_permission(self, request):
        return False
