"""Admin pages of membership, the rebuild command after an import, prediction segments."""

import io

import pytest
from django.core.management import call_command

from membership import selectors
from membership.models import MemberProfile, MemberScore, Membership, SegmentRun
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def _import(tmp_path):
    path = tmp_path / "orders.csv"
    lines = ["customer,order_id,date,quantity,amount"]
    for c in range(25):
        for o in range(1 + c % 4):
            lines.append(f"K{c},K{c}-{o},2026-0{1 + o}-1{c % 9},1,{300 + 10 * c}.00")
    path.write_text("\n".join(lines) + "\n")
    call_command("import_orders", str(path), stdout=io.StringIO())


def test_membership_rebuild_after_import_fills_everything(tmp_path):
    _import(tmp_path)

    out = io.StringIO()
    call_command("membership_rebuild", "--horizon-days", "90", stdout=out)

    assert "Membership data rebuilt." in out.getvalue()
    assert Membership.objects.count() == 25
    assert MemberProfile.objects.exclude(rfm_segment="").count() == 25
    assert SegmentRun.objects.count() == 1
    assert MemberScore.objects.count() == 25
    assert Membership.objects.filter(tier__code="silver").exists()  # 4 orders x 300+


def test_admin_pages_open(staff_client, tmp_path):
    _import(tmp_path)
    call_command("membership_rebuild", stdout=io.StringIO())
    profile = MemberProfile.objects.first()

    for url in (
        "/admin/membership/tier/",
        "/admin/membership/tier/1/change/",
        "/admin/membership/membership/",
        "/admin/membership/tierchange/",
        "/admin/membership/memberprofile/",
        f"/admin/membership/memberprofile/{profile.pk}/change/",
        "/admin/membership/segment/",
        "/admin/membership/segmentrun/",
        "/admin/membership/memberscore/?at_risk__exact=1",
    ):
        assert staff_client.get(url).status_code == 200, url


def test_prediction_segments_target_members():
    risky, keen = MemberFactory(), MemberFactory()
    common = {"as_of": "2026-01-01", "horizon_days": 90, "expected_orders": 1, "expected_spend": 1}
    MemberScore.objects.create(user=risky, p_return=0.1, at_risk=True, **common)
    MemberScore.objects.create(user=keen, p_return=0.9, high_potential=True, **common)

    assert list(selectors.segment_member_ids("churn_risk")) == [risky.pk]
    assert list(selectors.segment_member_ids("high_potential")) == [keen.pk]
    assert selectors.member_audience(risky)["segments"] == ["churn_risk"]
    assert ("churn_risk", "Churn risk (prediction)") in selectors.audience_choices()["segments"]


def test_staff_change_a_tier_in_admin_with_a_recorded_reason(staff_client):
    from membership.models import Tier, TierChange
    from membership.tiers import tier_evaluate

    member = MemberFactory()
    tier_evaluate(user_id=member.pk)
    membership = Membership.objects.get(user=member)
    gold = Tier.objects.get(code="gold")

    response = staff_client.post(
        f"/admin/membership/membership/{membership.pk}/change/", {"tier": gold.pk}
    )

    assert response.status_code == 302
    assert Membership.objects.get(user=member).tier == gold
    change = TierChange.objects.get(user=member, reason="staff")
    assert change.note == "boss@example.com" and change.from_tier.code == "bronze"


@pytest.mark.parametrize("horizon", ["0", "-5", "99999"])
def test_membership_rebuild_refuses_a_bad_horizon_clearly(horizon):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--horizon-days must be from 1 to"):
        call_command("membership_rebuild", "--horizon-days", horizon, stdout=io.StringIO())
