"""Admin: promotions, coupon campaigns and codes, redemptions, the points ledger
(adjustments with a reason), exchange items and exchanges.

Counters and ledgers are never edited by hand: codes are generated and issued
by actions that call ``promotions.services``; a points adjustment is an
append-only entry written by ``services.points_adjust``; redemptions, order
discounts and ledger entries are read-only and link to their order and member.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.api.errors import DomainError
from promotions import selectors, services, tasks
from promotions.audience import audience_choices
from promotions.models import (
    Coupon,
    CouponCampaign,
    CouponRedemption,
    ExchangeItem,
    OrderDiscount,
    OrderDiscountLine,
    PointsAccount,
    PointsEntry,
    PointsExchange,
    Promotion,
)

AUDIENCE_FIELDS = {"tier_codes": "tiers", "segment_codes": "segments", "tag_codes": "tags"}


class AudienceForm(forms.ModelForm):
    """Tier, segment and tag codes: checkboxes when the membership app provides choices
    (``PROMOTIONS_AUDIENCE_CHOICES_PROVIDER``), else comma-separated codes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = audience_choices()
        for name, key in AUDIENCE_FIELDS.items():
            if name not in self.fields:
                continue
            model_field = self._meta.model._meta.get_field(name)
            current = list(getattr(self.instance, name, None) or [])
            if choices[key]:
                known = dict(choices[key])
                options = [*choices[key], *[(c, c) for c in current if c not in known]]
                self.fields[name] = forms.MultipleChoiceField(
                    label=model_field.verbose_name,
                    choices=options,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    help_text=model_field.help_text,
                    initial=current,
                )
            else:
                self.fields[name] = forms.CharField(
                    label=model_field.verbose_name,
                    required=False,
                    help_text=_("Comma-separated codes; empty: everyone."),
                    initial=", ".join(current),
                )
                self.initial[name] = ", ".join(current)

    def _codes(self, name: str) -> list[str]:
        value = self.cleaned_data.get(name) or []
        if isinstance(value, str):
            value = value.split(",")
        return sorted({str(v).strip() for v in value if str(v).strip()})

    def clean_tier_codes(self):
        return self._codes("tier_codes")

    def clean_segment_codes(self):
        return self._codes("segment_codes")

    def clean_tag_codes(self):
        return self._codes("tag_codes")


STEP_MAX = Decimal("9999999999.99")  # a money field's Decimal(12, 2)


def _step_amount_ok(value: Decimal) -> bool:
    """A threshold step's spend or amount off: finite, whole cents, within a money field."""
    return value.is_finite() and abs(value) <= STEP_MAX and value == value.quantize(Decimal("0.01"))


class PromotionForm(AudienceForm):
    class Meta:
        model = Promotion
        fields = [
            "code", "name", "name_zh_hans", "kind", "is_active", "tiers", "repeat", "percent",
            "amount", "max_discount", "min_spend", "buy_quantity", "free_quantity",
            "categories", "brands", "products", "tier_codes", "min_tier_rank", "segment_codes",
            "tag_codes", "starts_at", "ends_at", "priority", "exclusive", "per_member_limit",
            "budget",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        K = Promotion.Kind
        if kind == K.THRESHOLD:
            tiers = data.get("tiers") or []
            try:
                steps = [(Decimal(str(s)), Decimal(str(o))) for s, o in tiers]
            except (TypeError, ValueError, InvalidOperation):
                self.add_error("tiers", _('Write the steps as [["200.00", "20.00"], ...].'))
                return data
            if not all(_step_amount_ok(v) for step in steps for v in step):
                # NaN compares with an error (a 500); Infinity, 1E+30 or sub-cent amounts
                # break the pricing's rounding to cents on every cart.
                self.add_error("tiers", _('Write the steps as [["200.00", "20.00"], ...].'))
                return data
            if not steps or any(s <= 0 or o <= 0 or o > s for s, o in steps):
                self.add_error(
                    "tiers", _("Each step needs a spend above 0 and an amount off from 0.01 to it.")
                )
            if data.get("repeat") and len(steps) != 1:
                self.add_error("repeat", _("A repeating reduction has exactly one step."))
        elif kind == K.PERCENT_OFF and not data.get("percent"):
            self.add_error("percent", _("Give the percentage off."))
        elif kind == K.FIXED_OFF and not data.get("amount"):
            self.add_error("amount", _("Give the amount off."))
        elif kind == K.BUY_N_GET_M and not (data.get("buy_quantity") and data.get("free_quantity")):
            self.add_error("buy_quantity", _("Give N (buy) and M (free)."))
        ends, starts = data.get("ends_at"), data.get("starts_at")
        if ends and starts and ends <= starts:
            self.add_error("ends_at", _("The end must be after the start."))
        return data


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    form = PromotionForm
    list_display = [
        "code",
        "name",
        "kind",
        "priority",
        "exclusive",
        "starts_at",
        "ends_at",
        "is_active",
        "uses",
        "spent",
        "budget",
    ]
    list_filter = ["kind", "is_active", "exclusive"]
    search_fields = ["code", "name", "name_zh_hans"]
    autocomplete_fields = ["categories", "brands", "products"]
    readonly_fields = ["uses", "spent", "created_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_zh_hans", "kind", "is_active"]}),
        (
            _("Benefit"),
            {
                "fields": [
                    "tiers",
                    "repeat",
                    "percent",
                    "amount",
                    "max_discount",
                    "min_spend",
                    "buy_quantity",
                    "free_quantity",
                ]
            },
        ),
        (_("Scope"), {"fields": ["categories", "brands", "products"]}),
        (_("Audience"), {"fields": ["tier_codes", "min_tier_rank", "segment_codes", "tag_codes"]}),
        (
            _("Window, stacking and limits"),
            {
                "fields": [
                    "starts_at",
                    "ends_at",
                    "priority",
                    "exclusive",
                    "per_member_limit",
                    "budget",
                    "uses",
                    "spent",
                    "created_at",
                ]
            },
        ),
    ]


VALID_DAYS_MAX = 36500  # beyond, a wallet coupon's expiry could overflow the calendar


class CampaignForm(AudienceForm):
    class Meta:
        model = CouponCampaign
        fields = [
            "name", "name_zh_hans", "kind", "value", "max_discount", "min_spend", "categories",
            "brands", "starts_at", "ends_at", "is_active", "public_code", "total_limit",
            "per_member_limit", "combinable_with_promotions", "valid_days",
            "return_on_cancel", "return_on_refund", "tier_codes",
            "min_tier_rank", "segment_codes", "tag_codes",
        ]  # fmt: skip

    def clean_public_code(self):
        code = services.code_normalize(self.cleaned_data.get("public_code"))
        return code or None

    def clean(self):
        data = super().clean()
        if data.get("kind") == CouponCampaign.Kind.PERCENT and (data.get("value") or 0) > 100:
            self.add_error("value", _("A percentage is at most 100."))
        if (data.get("valid_days") or 0) > VALID_DAYS_MAX:
            self.add_error(
                "valid_days",
                _("At most %(days)s days (leave it empty for no end).") % {"days": VALID_DAYS_MAX},
            )
        ends, starts = data.get("ends_at"), data.get("starts_at")
        if ends and starts and ends <= starts:
            self.add_error("ends_at", _("The end must be after the start."))
        return data


class GenerateCodesForm(forms.Form):
    count = forms.IntegerField(label=_("How many codes"), min_value=1, max_value=100_000)
    prefix = forms.CharField(label=_("Prefix"), max_length=12, required=False)


class IssueForm(forms.Form):
    segment = forms.CharField(label=_("Segment code"), max_length=64, required=False)
    emails = forms.CharField(
        label=_("Member e-mails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line or comma-separated."),
    )

    def clean(self):
        data = super().clean()
        if not data.get("segment") and not data.get("emails"):
            raise forms.ValidationError(_("Give a segment code or member e-mails."))
        return data


def codes_csv(queryset, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(["code", "campaign", "owner", "source", "used", "max_uses", "batch", "created"])
    for c in queryset.select_related("campaign", "owner").order_by("campaign_id", "id").iterator():
        writer.writerow(
            [
                c.code,
                c.campaign.name,
                c.owner.email if c.owner_id else "",
                c.source,
                c.used_count,
                c.max_uses,
                c.batch,
                c.created_at.isoformat(),
            ]
        )
    return response


@admin.register(CouponCampaign)
class CouponCampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = [
        "name",
        "kind",
        "value",
        "min_spend",
        "starts_at",
        "ends_at",
        "public_code",
        "used_count",
        "total_limit",
        "issued_count",
        "combinable_with_promotions",
        "valid_days",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "combinable_with_promotions"]
    search_fields = ["name", "name_zh_hans", "public_code"]
    autocomplete_fields = ["categories", "brands"]
    readonly_fields = ["used_count", "issued_count", "created_at"]
    actions = ["generate_codes", "export_codes", "issue_coupons"]

    @admin.action(description=_("Generate single-use codes"))
    def generate_codes(self, request, queryset):
        form = GenerateCodesForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for campaign in queryset:
                made = services.coupons_generate(
                    campaign_id=campaign.pk,
                    count=form.cleaned_data["count"],
                    prefix=form.cleaned_data["prefix"],
                )
                self.message_user(
                    request,
                    _("%(count)s codes generated for %(campaign)s.")
                    % {"count": made, "campaign": campaign.name},
                    messages.SUCCESS,
                )
            return None
        return render(
            request,
            "admin/promotions/campaign_action.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Generate single-use codes"),
                "form": form,
                "queryset": queryset,
                "action": "generate_codes",
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Export the campaigns' codes as CSV"))
    def export_codes(self, request, queryset):
        return codes_csv(
            Coupon.objects.filter(campaign__in=queryset), f"coupons-{timezone.now():%Y%m%d}.csv"
        )

    @admin.action(description=_("Issue coupons to a segment or to members"))
    def issue_coupons(self, request, queryset):
        form = IssueForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            segment = form.cleaned_data["segment"].strip()
            raw = form.cleaned_data["emails"].replace(",", "\n")
            emails = {e.strip().lower() for e in raw.splitlines() if e.strip()}
            user_ids = list(
                get_user_model().objects.filter(email__in=emails).values_list("pk", flat=True)
            )
            for campaign in queryset:
                if user_ids:
                    n = services.coupons_issue(campaign_id=campaign.pk, user_ids=user_ids)
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)s coupon issued for %(campaign)s.",
                            "%(count)s coupons issued for %(campaign)s.",
                            n,
                        )
                        % {"count": n, "campaign": campaign.name},
                    )
                if segment:
                    # The batch is fixed now: a redelivered or retried task skips the
                    # members it already served instead of issuing them a second coupon.
                    batch = f"issue-{campaign.pk}-{timezone.now():%Y%m%d%H%M%S%f}"
                    transaction.on_commit(
                        lambda pk=campaign.pk, b=batch: tasks.issue_to_segment.delay(pk, segment, b)
                    )
                    self.message_user(
                        request,
                        _("Issuing %(campaign)s to segment %(segment)s.")
                        % {"campaign": campaign.name, "segment": segment},
                    )
            return None
        return render(
            request,
            "admin/promotions/campaign_action.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Issue coupons to a segment or to members"),
                "form": form,
                "queryset": queryset,
                "action": "issue_coupons",
                "opts": self.model._meta,
            },
        )


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = [
        "code", "campaign", "owner", "source", "used_count", "max_uses", "expires_at", "batch",
    ]  # fmt: skip
    list_filter = ["source", "campaign"]
    search_fields = ["code", "owner__email", "batch"]
    list_select_related = ["campaign", "owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["used_count", "created_at", "claimed_at", "expires_at"]
    actions = ["export_csv"]

    @admin.action(description=_("Export the selected codes as CSV"))
    def export_csv(self, request, queryset):
        return codes_csv(queryset, f"coupons-{timezone.now():%Y%m%d}.csv")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdmin):
    list_display = ["coupon", "campaign", "user", "order", "amount", "status", "created_at"]
    list_filter = ["status", "campaign"]
    search_fields = ["coupon__code", "user__email", "order__number"]
    list_select_related = ["coupon", "campaign", "user", "order"]


class OrderDiscountLineInline(admin.TabularInline):
    model = OrderDiscountLine
    extra = 0
    can_delete = False
    readonly_fields = ["item", "amount"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OrderDiscount)
class OrderDiscountAdmin(ReadOnlyAdmin):
    list_display = ["order", "user", "source", "code", "amount", "points", "status", "created_at"]
    list_filter = ["source", "status"]
    search_fields = ["order__number", "user__email", "code"]
    list_select_related = ["order", "user"]
    inlines = [OrderDiscountLineInline]


class PointsAdjustmentForm(forms.ModelForm):
    """A staff adjustment: bonus points (positive) or a correction (negative), with a reason."""

    member = forms.ModelChoiceField(
        label=_("Member"), queryset=get_user_model().objects.all(), widget=forms.NumberInput
    )
    points = forms.IntegerField(
        label=_("Points (negative to deduct)"),
        min_value=-services.POINTS_MAX,
        max_value=services.POINTS_MAX,
    )
    why = forms.CharField(label=_("Reason"), max_length=255)

    class Meta:
        model = PointsEntry
        fields: list[str] = []

    def clean_points(self):
        value = self.cleaned_data["points"]
        if value == 0:
            raise forms.ValidationError(_("Enter a whole number of points other than 0."))
        return value

    def clean(self):
        data = super().clean()
        member, points = data.get("member"), data.get("points")
        if member is not None and points is not None and points < 0:
            balance = selectors.points_balance(user=member)
            if balance + points < 0:
                self.add_error(
                    "points",
                    _("The member has only %(balance)s points.") % {"balance": balance},
                )
        if member is not None and points is not None and points > 0:
            balance = selectors.points_balance(user=member)
            if balance + points > services.POINTS_MAX:
                self.add_error(
                    "points",
                    _("A balance cannot exceed %(max)s points.") % {"max": services.POINTS_MAX},
                )
        return data


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    """The ledger, read-only; "Add" writes a staff adjustment through the service."""

    list_display = [
        "created_at",
        "user",
        "kind",
        "amount",
        "balance_after",
        "reason",
        "order",
        "expires_at",
        "remaining",
        "created_by",
    ]
    list_filter = ["kind"]
    search_fields = ["user__email", "order__number", "reason", "ref"]
    list_select_related = ["user", "order", "created_by"]
    date_hierarchy = "created_at"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = PointsAdjustmentForm
            kwargs["fields"] = ["member", "points", "why"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["member", "points", "why"]
        return [f.name for f in PointsEntry._meta.fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [f.name for f in PointsEntry._meta.fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        entry = services.points_adjust(
            user_id=form.cleaned_data["member"].pk,
            amount=form.cleaned_data["points"],
            reason=form.cleaned_data["why"],
            by=request.user,
        )
        obj.__dict__.update({k: v for k, v in entry.__dict__.items() if k != "_state"})
        obj._state.adding = False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:  # the balance moved since the form was checked
            self.message_user(request, exc.message, messages.ERROR)
            return redirect(request.path)


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "balance", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(ExchangeItem)
class ExchangeItemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "points_cost", "stock", "per_member_limit", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "name_zh_hans"]
    autocomplete_fields = ["product"]
    list_editable = ["stock", "is_active"]


@admin.register(PointsExchange)
class PointsExchangeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "item", "points", "status", "coupon", "ship_to"]
    list_filter = ["status", "item"]
    search_fields = ["user__email", "item__name", "tracking_number"]
    list_select_related = ["user", "item", "coupon"]
    readonly_fields = [
        "user",
        "item",
        "points",
        "coupon",
        "status",
        "ship_to",
        "idempotency_key",
        "created_at",
        "shipped_at",
    ]
    actions = ["mark_shipped"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Mark the selected gifts shipped"))
    def mark_shipped(self, request, queryset):
        done = sum(
            services.exchange_mark_shipped(exchange_id=pk, tracking_number="")
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext("%(count)s gift marked shipped.", "%(count)s gifts marked shipped.", done)
            % {"count": done},
        )
