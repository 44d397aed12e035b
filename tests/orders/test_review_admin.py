"""Review moderation and sentiment models in the admin."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from orders import reviews, sentiment
from orders.models import Review, SentimentModel
from tests.factories import MemberFactory, ProductFactory, order_with_items
from tests.orders.test_sentiment import _store_reviews, generated_reviews

pytestmark = pytest.mark.django_db

REVIEWS = reverse("admin:orders_review_changelist")
MODELS = reverse("admin:orders_sentimentmodel_changelist")
TRAIN = reverse("admin:orders_sentimentmodel_train")


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    sentiment._loaded.clear()
    yield
    sentiment._loaded.clear()


def _review(title="Nice", rating=5, product=None, email=None):
    user = MemberFactory(**({"email": email} if email else {}))
    item = order_with_items(
        user=user, products=[product or ProductFactory()], status="delivered"
    ).items.get()
    return reviews.review_create(user=user, item_id=item.pk, rating=rating, title=title)


def test_review_list_with_filters_and_search(admin_client):
    _review(title="Shiny kettle", product=ProductFactory(name="Copper kettle", sku="KET-1"))
    _review(title="Dull pan", email="pan.fan@example.com")

    for query in (
        {},
        {"rating__exact": "5"},
        {"is_hidden__exact": "0"},
        {"sentiment_source": "rating"},
    ):
        assert admin_client.get(REVIEWS, query).status_code == 200
    by_sku = admin_client.get(REVIEWS, {"q": "KET-1"})
    by_email = admin_client.get(REVIEWS, {"q": "pan.fan"})

    assert [r.title for r in by_sku.context["cl"].result_list] == ["Shiny kettle"]
    assert [r.title for r in by_email.context["cl"].result_list] == ["Dull pan"]


def test_review_list_query_count_does_not_grow(admin_client, django_assert_max_num_queries):
    _review()
    with django_assert_max_num_queries(12) as one:
        admin_client.get(REVIEWS)
    for _ in range(10):
        _review()

    with django_assert_max_num_queries(len(one.captured_queries)):
        admin_client.get(REVIEWS)


def test_review_change_page_shows_images_inline(admin_client):
    review = _review()

    response = admin_client.get(reverse("admin:orders_review_change", args=[review.pk]))

    assert response.status_code == 200
    assert "review images" in response.content.decode().lower()


def test_hide_and_show_actions(admin_client):
    first, second = _review(), _review()

    admin_client.post(
        REVIEWS, {"action": "hide_reviews", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}
    )
    assert Review.objects.filter(is_hidden=True).count() == 2
    admin_client.post(REVIEWS, {"action": "show_reviews", ACTION_CHECKBOX_NAME: [first.pk]})

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_hidden, second.is_hidden) == (False, True)


def test_staff_cannot_add_reviews_in_admin(admin_client):
    assert admin_client.get(reverse("admin:orders_review_add")).status_code == 403


def test_train_now_button_trains_a_model(admin_client, django_capture_on_commit_callbacks):
    _store_reviews(generated_reviews(120))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(TRAIN)

    assert response.status_code == 302
    assert SentimentModel.objects.filter(is_active=True).count() == 1


def test_train_now_needs_post(admin_client):
    assert admin_client.get(TRAIN).status_code == 405


def test_train_now_is_for_staff_only(client):
    client.force_login(MemberFactory())

    response = client.post(TRAIN)

    assert response.status_code == 302  # to the admin login
    assert not SentimentModel.objects.exists()


def test_sentiment_models_are_listed_read_only_with_metrics(admin_client):
    _store_reviews(generated_reviews(120))
    model = sentiment.sentiment_train()

    listing = admin_client.get(MODELS)
    change = admin_client.post(
        reverse("admin:orders_sentimentmodel_change", args=[model.pk]), {"is_active": ""}
    )

    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Train now" in html
    assert f"{model.params['holdout_auc']:.3f}" in html
    assert change.status_code == 403
    model.refresh_from_db()
    assert model.is_active


def test_train_now_action_retrains_even_without_changes(
    admin_client, django_capture_on_commit_callbacks
):
    _store_reviews(generated_reviews(120))
    model = sentiment.sentiment_train()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(MODELS, {"action": "train_now", ACTION_CHECKBOX_NAME: [model.pk]})

    assert SentimentModel.objects.count() == 2
