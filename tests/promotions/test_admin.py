"""Admin: promotions and campaigns forms, code generation, CSV export, issuing, points
adjustments, exchanges; every list page loads."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from promotions.models import Coupon, PointsEntry, PointsExchange, Promotion
from promotions.selectors import points_balance
from tests.factories import (
    CouponCampaignFactory,
    CouponFactory,
    ExchangeItemFactory,
    MemberFactory,
    ProductFactory,
    PromotionFactory,
    UserFactory,
    points_grant,
)

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.parametrize(
    "model",
    [
        "promotion",
        "couponcampaign",
        "coupon",
        "couponredemption",
        "orderdiscount",
        "pointsentry",
        "pointsaccount",
        "exchangeitem",
        "pointsexchange",
    ],
)
def test_every_list_and_add_page_loads(staff, model):
    PromotionFactory()
    CouponFactory()
    points_grant(MemberFactory(), 10)
    assert staff.get(reverse(f"admin:promotions_{model}_changelist")).status_code == 200
    add = staff.get(reverse(f"admin:promotions_{model}_add"))
    assert add.status_code in (200, 403)


def _promotion_form(**over):
    data = {
        "code": "m300",
        "name": "300 off 30",
        "name_zh_hans": "满300减30",
        "kind": "threshold",
        "is_active": "on",
        "tiers": '[["300.00", "30.00"]]',
        "min_spend": "0",
        "tier_codes": "gold, silver",
        "segment_codes": "",
        "tag_codes": "",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "priority": "3",
    }
    data.update(over)
    return data


@override_settings(PROMOTIONS_AUDIENCE_CHOICES_PROVIDER="")
def test_without_a_choices_provider_tier_codes_are_typed(staff):
    response = staff.post(reverse("admin:promotions_promotion_add"), _promotion_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    promotion = Promotion.objects.get(code="m300")
    assert promotion.tiers == [["300.00", "30.00"]]
    assert promotion.tier_codes == ["gold", "silver"]


@pytest.mark.parametrize(
    "over,field",
    [
        ({"tiers": '[["30.00", "300.00"]]'}, "tiers"),
        ({"tiers": '[["x", "1"]]'}, "tiers"),
        ({"kind": "percent_off", "tiers": "[]"}, "percent"),
        ({"repeat": "on", "tiers": '[["100", "10"], ["200", "30"]]'}, "repeat"),
    ],
)
def test_promotion_form_refuses_inconsistent_rules(staff, over, field):
    response = staff.post(reverse("admin:promotions_promotion_add"), _promotion_form(**over))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors


def fixture_choices():
    return {"tiers": [("gold", "Gold"), ("silver", "Silver")], "segments": [("vip", "VIP")]}


@override_settings(
    PROMOTIONS_AUDIENCE_CHOICES_PROVIDER="tests.promotions.test_admin.fixture_choices"
)
def test_audience_choices_come_from_the_provider(staff):
    page = staff.get(reverse("admin:promotions_promotion_add"))
    form = page.context["adminform"].form
    assert list(form.fields["tier_codes"].choices) == [("gold", "Gold"), ("silver", "Silver")]
    response = staff.post(
        reverse("admin:promotions_promotion_add"),
        _promotion_form(tier_codes=["gold"], segment_codes=["vip"]),
    )
    assert response.status_code == 302
    promotion = Promotion.objects.get(code="m300")
    assert (promotion.tier_codes, promotion.segment_codes) == (["gold"], ["vip"])


def test_the_shop_offers_the_membership_tiers_as_choices(staff):
    """As configured: the membership app's tiers (a data migration creates them)."""
    page = staff.get(reverse("admin:promotions_promotion_add"))
    codes = [code for code, _label in page.context["adminform"].form.fields["tier_codes"].choices]
    assert codes == ["bronze", "silver", "gold", "platinum"]

    response = staff.post(
        reverse("admin:promotions_promotion_add"),
        _promotion_form(tier_codes=["gold", "platinum"], segment_codes=[], tag_codes=[]),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Promotion.objects.get(code="m300").tier_codes == ["gold", "platinum"]


def test_generate_codes_action_and_csv_export(staff):
    campaign = CouponCampaignFactory(name="Bulk")
    url = reverse("admin:promotions_couponcampaign_changelist")

    form_page = staff.post(url, {"action": "generate_codes", "_selected_action": [campaign.pk]})
    assert form_page.status_code == 200 and b"How many codes" in form_page.content
    staff.post(
        url,
        {
            "action": "generate_codes",
            "_selected_action": [campaign.pk],
            "apply": "1",
            "count": "30",
            "prefix": "bk",
        },
    )
    assert Coupon.objects.filter(campaign=campaign).count() == 30

    export = staff.post(url, {"action": "export_codes", "_selected_action": [campaign.pk]})
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0][0] == "code" and len(rows) == 31
    assert all(row[0].startswith("BK") for row in rows[1:])


def test_issue_action_puts_coupons_in_members_wallets(staff):
    campaign = CouponCampaignFactory()
    members = [MemberFactory() for _i in range(2)]
    staff.post(
        reverse("admin:promotions_couponcampaign_changelist"),
        {
            "action": "issue_coupons",
            "_selected_action": [campaign.pk],
            "apply": "1",
            "emails": "\n".join(m.email for m in members),
        },
    )
    assert {c.owner for c in Coupon.objects.filter(campaign=campaign)} == set(members)


def test_staff_adds_bonus_points_with_a_reason(staff):
    member = MemberFactory()
    response = staff.post(
        reverse("admin:promotions_pointsentry_add"),
        {"member": member.pk, "points": "250", "why": "Apology for a late parcel"},
    )
    assert response.status_code == 302
    entry = PointsEntry.objects.get(user=member)
    assert (entry.kind, entry.amount, entry.reason, entry.created_by) == (
        "adjust",
        250,
        "Apology for a late parcel",
        staff.user,
    )
    assert points_balance(user=member) == 250


def test_staff_cannot_deduct_more_than_the_balance_or_skip_the_reason(staff):
    member = MemberFactory()
    points_grant(member, 100)
    over = staff.post(
        reverse("admin:promotions_pointsentry_add"),
        {"member": member.pk, "points": "-101", "why": "fix"},
    )
    assert over.status_code == 200
    assert "points" in over.context["adminform"].form.errors
    no_reason = staff.post(
        reverse("admin:promotions_pointsentry_add"), {"member": member.pk, "points": "5", "why": ""}
    )
    assert "why" in no_reason.context["adminform"].form.errors
    assert points_balance(user=member) == 100


def test_ledger_entries_are_read_only(staff):
    entry = points_grant(MemberFactory(), 10)
    url = reverse("admin:promotions_pointsentry_change", args=[entry.pk])
    page = staff.get(url)
    assert page.status_code == 200
    staff.post(url, {"amount": "99999"})
    entry.refresh_from_db()
    assert entry.amount == 10


def test_mark_gift_exchanges_shipped(staff):
    from promotions import services
    from tests.factories import AddressFactory

    member = MemberFactory()
    AddressFactory(user=member, is_default=True)
    points_grant(member, 500)
    item = ExchangeItemFactory(
        kind="gift", campaign=None, product=ProductFactory(), points_cost=200
    )
    done = services.points_exchange(user=member, item_id=item.pk)
    staff.post(
        reverse("admin:promotions_pointsexchange_changelist"),
        {"action": "mark_shipped", "_selected_action": [done.pk]},
    )
    assert PointsExchange.objects.get(pk=done.pk).status == "shipped"


@pytest.mark.parametrize("points", ["3000000000", "-3000000000", "99999999999999999999"])
def test_staff_adjustment_beyond_the_points_range_is_a_form_error(staff, points):
    member = MemberFactory()
    points_grant(member, 100)
    response = staff.post(
        reverse("admin:promotions_pointsentry_add"),
        {"member": member.pk, "points": points, "why": "typo"},
    )
    assert response.status_code == 200
    assert "points" in response.context["adminform"].form.errors
    assert points_balance(user=member) == 100


def test_a_bonus_that_would_overflow_the_balance_is_refused(staff):
    member = MemberFactory()
    points_grant(member, 2**31 - 10)
    response = staff.post(
        reverse("admin:promotions_pointsentry_add"),
        {"member": member.pk, "points": "10", "why": "bonus"},
    )
    assert response.status_code == 200
    assert "points" in response.context["adminform"].form.errors
    assert points_balance(user=member) == 2**31 - 10


@pytest.mark.parametrize(
    "tiers",
    [
        '[["NaN", "1"]]',
        '[["100", "NaN"]]',
        '[["Infinity", "10"]]',
        '[["1E+30", "10"]]',
        '[["100.001", "10"]]',
        '[["10000000000", "10"]]',
        "[[1, 2, 3]]",
        '"200"',
    ],
)
@override_settings(PROMOTIONS_AUDIENCE_CHOICES_PROVIDER="")
def test_promotion_steps_must_be_finite_amounts_in_cents(staff, tiers):
    response = staff.post(reverse("admin:promotions_promotion_add"), _promotion_form(tiers=tiers))
    assert response.status_code == 200
    assert "tiers" in response.context["adminform"].form.errors
    assert not Promotion.objects.exists()


def test_campaign_form_refuses_a_validity_beyond_a_century():
    from promotions.admin import CampaignForm

    form = CampaignForm(data={"valid_days": "3000000"})
    form.is_valid()
    assert "valid_days" in form.errors


@override_settings(
    PROMOTIONS_SEGMENT_MEMBERS_PROVIDER="tests.promotions.test_services.fixture_segment_members"
)
def test_issuing_to_a_segment_enqueues_a_batch_so_a_redelivered_task_issues_nothing_more(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from promotions import services, tasks
    from tests.promotions.test_services import SEGMENTS

    campaign = CouponCampaignFactory()
    members = [MemberFactory() for _i in range(2)]
    monkeypatch.setitem(SEGMENTS, "vip", [m.pk for m in members])
    sent = []
    monkeypatch.setattr(tasks.issue_to_segment, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:promotions_couponcampaign_changelist"),
            {
                "action": "issue_coupons",
                "_selected_action": [campaign.pk],
                "apply": "1",
                "segment": "vip",
            },
        )
    assert len(sent) == 1
    assert tasks.issue_to_segment(*sent[0]) == 2
    later = timezone.now() + timedelta(minutes=5)
    monkeypatch.setattr(services.timezone, "now", lambda: later)
    assert tasks.issue_to_segment(*sent[0]) == 0  # Celery redelivers: no second coupon each
    assert Coupon.objects.filter(campaign=campaign).count() == 2
