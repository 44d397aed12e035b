"""Recommendations as the shop wires them: membership's tier filter (no stand-in provider)."""

from config.settings import base
from membership.models import Tier
from membership.tiers import tier_set
from recommend import serving
from recommend.models import MemberList


def _shown(served):
    return [item.product.pk for item in served.items]


def test_the_shop_excludes_products_exclusive_to_higher_tiers():
    assert "membership.selectors.restricted_product_ids" in base.RECOMMEND_EXCLUDE_PROVIDERS


def test_a_gold_exclusive_product_is_shown_to_gold_members_only(trained, settings):
    settings.RECOMMEND_EXCLUDE_PROVIDERS = ["membership.selectors.restricted_product_ids"]
    bronze, gold = trained.group_a[0], trained.group_a[1]
    tier_set(user_id=gold.pk, tier=Tier.objects.get(code="gold"))
    bronze_top = MemberList.objects.get(version__status="live", user=bronze).items[:5]
    gold_top = MemberList.objects.get(version__status="live", user=gold).items[:5]
    exclusive = next(pid for pid in bronze_top if pid in gold_top)  # ranked high for both
    Tier.objects.get(code="gold").exclusive_products.add(exclusive)

    bronze_ids = _shown(serving.recommendations_for(user=bronze, k=10))
    gold_ids = _shown(serving.recommendations_for(user=gold, k=10))

    assert exclusive not in bronze_ids and len(bronze_ids) == 10
    assert exclusive in gold_ids


def test_visitors_never_see_tier_exclusive_products(trained, settings):
    settings.RECOMMEND_EXCLUDE_PROVIDERS = ["membership.selectors.restricted_product_ids"]
    popular = _shown(serving.recommendations_for(user=None, k=10))
    anchor = trained.a[0]
    similar = _shown(serving.item_list(product_id=anchor.pk, kind="similar", k=10))
    exclusive = [popular[0], similar[0]]
    Tier.objects.get(code="gold").exclusive_products.add(*exclusive)

    home = _shown(serving.recommendations_for(user=None, k=10))
    page = serving.item_lists(product_id=anchor.pk, kinds=("bought", "similar"), k=10)

    assert not set(exclusive) & set(home) and len(home) == 10
    for served in page.values():
        assert not set(exclusive) & set(_shown(served)) and len(served.items) == 10
