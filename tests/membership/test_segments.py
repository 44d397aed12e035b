"""RFM segments and clusters on constructed data; sizes and movements are kept."""

import numpy as np
import pandas as pd
import pytest

from membership.models import MemberProfile, Segment, SegmentMembership, SegmentRun
from membership.segments import clusters_fit, describe, rfm_assign, rfm_segment, segments_rebuild
from tests.factories import MemberFactory


@pytest.mark.parametrize(
    ("r", "f", "orders", "segment"),
    [(5, 1, 1, "new"), (5, 5, 9, "champions"), (3, 4, 5, "loyal"), (4, 2, 2, "potential"),
     (2, 5, 8, "at_risk"), (2, 1, 1, "hibernating"), (1, 2, 2, "lost")],
)  # fmt: skip
def test_rfm_rules(r, f, orders, segment):
    assert rfm_segment(r, f, orders) == segment


@pytest.mark.parametrize(
    ("r", "f", "segment"), [(3, 3, "potential"), (3, 5, "potential"), (2, 4, "hibernating"),
                            (1, 3, "lost")],
)  # fmt: skip
def test_a_one_time_buyer_is_never_loyal_or_at_risk(r, f, segment):
    assert rfm_segment(r, f, 1) == segment


def test_one_time_buyers_in_a_mostly_one_time_shop_are_not_loyal():
    # 9 of 10 members ordered once (their tied frequency rank alone scores F = 3).
    frame = pd.DataFrame(
        {
            "present": [True] * 10,
            "recency": [10.0] * 9 + [1.0],
            "n_orders": [1] * 9 + [6],
            "total_spend": [20.0] * 10,
        }
    )

    segments = rfm_assign(frame)

    assert set(segments[:9]) == {"potential"}


def test_rfm_assign_on_constructed_members():
    # 10 members: recency falls and frequency rises with the index; one without orders.
    n = 10
    frame = pd.DataFrame(
        {
            "present": [True] * (n - 1) + [False],
            "recency": [50 - 5 * i for i in range(n)],
            "n_orders": [1 + i for i in range(n)],
            "total_spend": [10.0 * (i + 1) for i in range(n)],
        }
    )

    segments = rfm_assign(frame)

    assert segments[-1] == ""
    assert segments[0] == "lost" and segments[8] == "champions"
    assert rfm_assign(frame) == segments  # deterministic


def test_equal_members_get_equal_segments():
    frame = pd.DataFrame(
        {"present": [True] * 6, "recency": [3.0] * 6, "n_orders": [2] * 6, "total_spend": [5.0] * 6}
    )

    assert len(set(rfm_assign(frame))) == 1


def test_kmeans_finds_separated_groups_and_describes_them():
    rng = np.random.default_rng(1)
    heavy = rng.normal([3, 3, 3, 0, 0, 0, 0, 0, 0], 0.1, (60, 9))
    light = rng.normal([0, 0, 0, 0, 0, 0, 0, 0, 0], 0.1, (60, 9))

    labels, centres, params = clusters_fit(np.vstack([heavy, light]))

    assert params["k"] == 2 and params["criterion"] == "silhouette"
    assert len(set(labels[:60])) == 1 and labels[0] != labels[-1]
    words, detail = describe(centres[labels[0]])
    assert "long since last order" in words and "many orders" in words
    assert {d["feature"] for d in detail} == {"recency_days", "orders", "spend"}


@pytest.mark.django_db
def test_rebuild_writes_segments_sizes_and_movements():
    members = [MemberFactory() for _ in range(30)]
    for i, m in enumerate(members):
        MemberProfile.objects.create(
            user=m,
            data={"orders": 1 + i % 6, "spend": f"{10 * (i + 1)}.00", "recency_days": 5 + i * 10,
                  "views_90d": i % 3, "events": 3},
        )  # fmt: skip

    first = segments_rebuild()
    MemberProfile.objects.filter(user=members[0]).update(
        data={"orders": 20, "spend": "9000.00", "recency_days": 1, "events": 50}
    )
    second = segments_rebuild()

    assert sum(first.sizes["rfm"].values()) == 30
    assert sum(first.sizes["cluster"].values()) == 30
    assert SegmentRun.objects.count() == 2
    assert second.movements["rfm"]  # member 0 moved
    assert (
        Segment.objects.get(code="champions").size
        == SegmentMembership.objects.filter(segment__code="champions").count()
    )
    profile = MemberProfile.objects.get(user=members[0])
    assert profile.rfm_segment == "champions" and profile.cluster.startswith("cluster-")
    assert Segment.objects.filter(kind="cluster", is_active=True).exclude(description="").exists()
