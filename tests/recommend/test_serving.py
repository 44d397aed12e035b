"""Serving: filters, full lists, cold start, reasons, click tracking, query counts."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Profile
from browsing.models import Event
from orders.models import Cart, CartItem, Review
from recommend import services, serving
from recommend.models import ItemList, ListClick, MemberList, ModelVersion, ServedList
from tests.factories import MemberFactory, OrderItemFactory, ProductFactory
from tests.recommend import providers


def stored(member):
    return MemberList.objects.get(version__status="live", user=member).items


def shown(served):
    return [item.product.pk for item in served.items]


def test_for_you_starts_with_the_stored_list_and_is_always_full(trained):
    member = trained.group_a[0]

    served = serving.recommendations_for(user=member, k=10)

    ids = shown(served)
    assert len(ids) == 10
    assert set(ids[:3]) == trained.untouched(member, trained.a)
    assert served.list_id and served.version_id


def test_out_of_stock_and_inactive_products_are_not_shown(trained):
    member = trained.group_a[0]
    first, second = stored(member)[:2]
    ProductFactory._meta.model.objects.filter(pk=first).update(stock=0)
    ProductFactory._meta.model.objects.filter(pk=second).update(is_active=False)

    ids = shown(serving.recommendations_for(user=member, k=8))

    assert first not in ids and second not in ids
    assert len(ids) == 8


def test_purchased_products_are_hidden_unless_bought_again_regularly(trained):
    member = trained.group_a[0]
    first, second = stored(member)[:2]
    Product = ProductFactory._meta.model
    Product.objects.filter(pk=second).update(attributes={"_repurchase_days": 30})
    for pk in (first, second):
        Event.objects.create(user=member, product_id=pk, event_type=Event.Type.PURCHASE)

    ids = shown(serving.recommendations_for(user=member, k=20))

    assert first not in ids
    assert second in ids


def test_negatively_reviewed_products_and_their_neighbours_are_hidden(trained):
    member = trained.group_a[0]
    disliked = trained.touched[member.pk][0]
    neighbours = ItemList.objects.get(
        version__status="live", kind="similar", product_id=disliked
    ).items[: serving.NEGATIVE_NEIGHBOURS]
    item = OrderItemFactory(order__user=member, product_id=disliked)
    Review.objects.create(item=item, user=member, product_id=disliked, rating=1)

    ids = shown(serving.recommendations_for(user=member, k=16))

    assert disliked not in ids
    assert not set(neighbours) & set(ids)


def test_product_page_lists_leave_out_what_the_member_reviewed_negatively(trained):
    member = trained.group_a[0]
    anchor = trained.a[0].pk
    lists = serving.item_lists(product_id=anchor, kinds=("bought", "similar"), k=10, user=member)
    disliked = shown(lists["similar"])[0]
    item = OrderItemFactory(order__user=member, product_id=disliked)
    Review.objects.create(item=item, user=member, product_id=disliked, rating=1)

    mine = serving.item_lists(product_id=anchor, kinds=("bought", "similar"), k=10, user=member)
    theirs = serving.item_list(product_id=anchor, kind="similar", k=10, user=trained.group_a[1])

    for served in mine.values():
        assert disliked not in shown(served) and len(served.items) == 10
    assert disliked in shown(theirs)


def test_exclude_providers_hide_products_from_every_list(trained, settings):
    settings.RECOMMEND_EXCLUDE_PROVIDERS = ["tests.recommend.providers.hidden_products"]
    member = trained.group_a[0]
    hidden = stored(member)[0]
    providers.HIDDEN.clear()
    providers.HIDDEN.add(hidden)
    try:
        home = shown(serving.recommendations_for(user=member, k=10))
        similar = shown(
            serving.item_list(product_id=trained.a[0].pk, kind="similar", k=15, user=member)
        )
    finally:
        providers.HIDDEN.clear()

    assert hidden not in home and hidden not in similar


def test_a_new_member_gets_their_preferred_categories_first(trained):
    newcomer = MemberFactory(email="new@example.com")
    Profile.objects.get(user=newcomer).favourite_categories.add(trained.garden)

    served = serving.recommendations_for(user=newcomer, k=5)

    assert len(served.items) == 5
    assert all(item.product.category_id == trained.garden.pk for item in served.items)
    assert served.items[0].reason == "popular_category"
    assert served.items[0].reason_text == "Popular in Garden"


def test_a_new_members_first_view_brings_similar_items_at_once(trained):
    newcomer = MemberFactory(email="new@example.com")
    Event.objects.create(user=newcomer, product=trained.b[0], event_type=Event.Type.VIEW)

    served = serving.recommendations_for(user=newcomer, k=3)

    assert all(item.product.category_id == trained.garden.pk for item in served.items)
    assert served.items[0].reason_text == f"Because you viewed {trained.b[0].name}"


def test_a_visitor_gets_popular_products(trained):
    from django.contrib.auth.models import AnonymousUser

    served = serving.recommendations_for(user=AnonymousUser(), k=6)

    assert len(served.items) == 6
    assert served.items[0].reason == "popular"


def test_lists_are_full_even_without_a_trained_model(world):
    served = serving.recommendations_for(user=world.group_a[0], k=11)

    assert len(served.items) == 11  # every product the member has not used yet
    assert served.version_id is None


def test_reasons_follow_the_active_language(trained):
    newcomer = MemberFactory(email="new@example.com")
    Event.objects.create(user=newcomer, product=trained.b[0], event_type=Event.Type.PURCHASE)

    with translation.override("zh-hans"):
        served = serving.recommendations_for(user=newcomer, k=3)

    assert served.items[0].reason_text == f"因为你购买了 {trained.b[0].name}"


def test_similar_items_come_from_the_same_taste_group(trained):
    served = serving.item_list(product_id=trained.a[0].pk, kind="similar", k=5)

    assert all(item.product.category_id == trained.books.pk for item in served.items)
    assert trained.a[0].pk not in shown(served)


def test_bought_together_falls_back_to_similar_items_and_is_full(trained):
    served = serving.item_list(product_id=trained.b[2].pk, kind="bought", k=8)

    assert len(served.items) == 8
    assert served.context == ServedList.Context.BOUGHT_TOGETHER


def test_a_new_product_gets_content_neighbours_and_joins_their_lists(
    trained, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        new = ProductFactory(category=trained.garden, name="Spade 99", brand=trained.b[0].brand)

    similar = shown(serving.item_list(product_id=new.pk, kind="similar", k=5))
    assert similar and all(
        ProductFactory._meta.model.objects.get(pk=pk).category_id == trained.garden.pk
        for pk in similar
    )
    closest = similar[0]
    assert (
        new.pk
        in ItemList.objects.get(version__status="live", kind="similar", product_id=closest).items
    )


def test_the_cart_suggests_what_is_bought_with_its_items(trained):
    member = trained.group_b[0]
    cart = Cart.objects.create(user=member)
    CartItem.objects.create(cart=cart, product=trained.b[1], quantity=1)

    served = serving.recommendations_for(user=member, context="cart", k=5)

    assert trained.b[1].pk not in shown(served)
    assert len(served.items) == 5


def test_search_results_move_the_members_picks_up(trained):
    member = trained.group_a[0]
    pick = stored(member)[0]
    others = [p.pk for p in trained.b[:6]]

    order = serving.rerank_search(member, [*others, pick])

    assert order.index(pick) < len(others)
    assert sorted(order) == sorted([*others, pick])


def test_search_order_is_unchanged_for_visitors_and_without_a_list(world):
    from django.contrib.auth.models import AnonymousUser

    ids = [p.pk for p in world.a]

    assert serving.rerank_search(AnonymousUser(), ids) == ids
    assert serving.rerank_search(world.group_a[0], ids) == ids


# --- click tracking -----------------------------------------------------------------------------


def test_a_click_link_logs_the_click_and_opens_the_product(trained, client):
    member = trained.group_a[0]
    client.force_login(member)
    served = serving.recommendations_for(user=member, k=5)
    item = served.items[2]

    response = client.get(item.click_url)

    assert response.status_code == 302
    click = ListClick.objects.get()
    assert (click.served_list_id, click.product_id, click.position) == (
        served.list_id,
        item.product.pk,
        2,
    )
    assert click.served_list.version_id == ModelVersion.objects.get(status="live").pk


def test_a_click_on_another_members_list_is_not_logged(trained, client):
    served = serving.recommendations_for(user=trained.group_a[0], k=5)
    client.force_login(trained.group_b[0])

    response = client.get(served.items[0].click_url)

    assert response.status_code == 302
    assert not ListClick.objects.exists()


# --- storefront pages and query counts ------------------------------------------------------------


def test_home_page_shows_the_members_list_with_reasons(trained, client):
    member = trained.group_a[0]
    client.force_login(member)

    html = client.get(reverse("browsing:home")).content.decode()

    assert "Recommended for you" in html
    assert "reco-reason" in html
    assert f"/r/{ServedList.objects.get().pk}/" in html


def test_product_page_shows_similar_items_and_bought_together(trained, client):
    html = client.get(trained.a[0].get_absolute_url()).content.decode()

    assert "Similar items" in html and "Frequently bought together" in html
    assert ServedList.objects.count() == 2


def test_the_product_page_never_shows_a_product_in_both_strips(trained, client):
    client.get(trained.a[0].get_absolute_url())

    bought, similar = (
        set(served.items)
        for served in ServedList.objects.order_by("pk").only("items")  # as logged, in page order
    )
    assert bought and similar and not bought & similar


def test_the_api_lists_stay_full_each_on_its_own(trained):
    """Outside the page (distinct off) bought-together may fall back to the similar items."""
    lists = serving.item_lists(product_id=trained.a[0].pk, kinds=("bought", "similar"), k=5)

    assert len(lists["bought"].items) == len(lists["similar"].items) == 5


@pytest.mark.parametrize("extra", [0, 30])
def test_for_you_costs_a_fixed_number_of_queries(trained, extra, django_assert_max_num_queries):
    member = trained.group_a[0]
    for _i in range(extra):
        p = ProductFactory(category=trained.books, price=Decimal("5.00"))
        Event.objects.create(user=member, product=p, event_type=Event.Type.VIEW)
    serving.live_version()  # cached for the next request

    # list, recent events, purchases + preferences (one UNION), negative reviews, similar
    # lists, products, served-list INSERT (tier-exclusive products: membership's cache)
    with django_assert_max_num_queries(7):
        served = serving.recommendations_for(user=member, k=10)

    assert len(served.items) == 10


@pytest.mark.parametrize("k", [1, 50])
def test_item_lists_cost_a_fixed_number_of_queries(trained, k, django_assert_max_num_queries):
    serving.live_version()

    # stored lists, products, newest products when short, served-lists INSERT
    with django_assert_max_num_queries(4):
        lists = serving.item_lists(product_id=trained.a[0].pk, kinds=("bought", "similar"), k=k)

    assert len(lists["similar"].items) == min(k, 15)


def test_publishing_clears_the_cached_live_version(trained, django_capture_on_commit_callbacks):
    before = serving.live_version()["pk"]

    with django_capture_on_commit_callbacks(execute=True):
        after = services.model_train(triggered_by="test", budget_seconds=0.5)

    assert serving.live_version()["pk"] == after.pk != before


def test_the_cart_page_strip_reuses_the_pages_lines_and_matches_the_serving_read(trained, client):
    member = trained.group_b[0]
    cart = Cart.objects.create(user=member)
    for product in (trained.b[1], trained.a[2], trained.b[3]):
        CartItem.objects.create(cart=cart, product=product, quantity=1)
    client.force_login(member)
    client.get("/cart/")

    response = client.get("/cart/")
    on_page = [item.product.pk for item in response.context["served"].items]
    read_here = serving.recommendations_for(user=member, context="cart", k=8, log=False)

    assert on_page == [item.product.pk for item in read_here.items]
    assert not {trained.b[1].pk, trained.a[2].pk, trained.b[3].pk} & set(on_page)
    assert [i.reason for i in response.context["served"].items] == [
        i.reason for i in read_here.items
    ]


def test_a_visitors_cart_suggestions_leave_out_what_is_in_the_cart(trained, client):
    popular = shown(serving.recommendations_for(user=None, context="cart", k=5))
    client.post(reverse("orders:cart_add"), {"product": popular[0], "quantity": 1})

    response = client.get(reverse("orders:cart"))

    assert response.status_code == 200
    served = ServedList.objects.filter(context="cart").latest("pk")
    assert popular[0] not in served.items and len(served.items) == 8
