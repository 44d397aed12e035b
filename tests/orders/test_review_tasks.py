"""Sentiment tasks: names in the beat schedule, training then rescoring, idempotency."""

from decimal import Decimal

import pytest
from django.conf import settings

from orders import reviews, sentiment
from orders.models import Review, SentimentModel
from orders.tasks import score_review, train_sentiment
from tests.factories import MemberFactory, ProductFactory, order_with_items
from tests.orders.test_sentiment import _store_reviews, generated_reviews

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    sentiment._loaded.clear()
    yield
    sentiment._loaded.clear()


def test_tasks_have_fixed_names_and_training_is_scheduled_daily():
    assert train_sentiment.name == "orders.tasks.train_sentiment"
    assert score_review.name == "orders.tasks.score_review"
    entry = settings.CELERY_BEAT_SCHEDULE["orders-train-sentiment"]
    assert entry["task"] == "orders.tasks.train_sentiment"
    assert entry["schedule"] == 86400.0


def test_tasks_have_time_limits():
    for task in (train_sentiment, score_review):
        assert task.soft_time_limit and task.time_limit > task.soft_time_limit


def test_training_task_without_enough_reviews_keeps_rating_scores():
    stored = _store_reviews(generated_reviews(10))
    Review.objects.update(sentiment=None, sentiment_source="")

    result = train_sentiment.delay().get()

    assert result == {"model_id": None, "rescored": 10}
    review = Review.objects.get(pk=stored[0].pk)
    assert review.sentiment == sentiment.sentiment_from_rating(review.rating)
    assert review.sentiment_source == "rating"


def test_training_task_trains_then_rescores_every_review():
    _store_reviews(generated_reviews(120))

    result = train_sentiment.delay().get()

    assert result["model_id"] == SentimentModel.objects.get(is_active=True).pk
    assert result["rescored"] == 120
    assert not Review.objects.exclude(sentiment_source="model").exists()


def test_training_task_run_twice_adds_no_model_and_changes_no_score():
    _store_reviews(generated_reviews(120))
    train_sentiment.delay().get()
    scores = dict(Review.objects.values_list("pk", "sentiment"))

    again = train_sentiment.delay().get()

    assert again == {"model_id": None, "rescored": 0}
    assert SentimentModel.objects.count() == 1
    assert dict(Review.objects.values_list("pk", "sentiment")) == scores


def test_forced_training_stores_a_new_model():
    _store_reviews(generated_reviews(120))
    train_sentiment.delay().get()

    assert train_sentiment.delay(force=True).get()["model_id"] is not None
    assert SentimentModel.objects.count() == 2


def test_new_review_is_scored_by_the_model_after_commit(django_capture_on_commit_callbacks):
    _store_reviews(generated_reviews(120))
    train_sentiment.delay().get()
    user = MemberFactory()
    item = order_with_items(user=user, products=[ProductFactory()], status="delivered")
    item = item.items.get()

    with django_capture_on_commit_callbacks(execute=True):
        review = reviews.review_create(
            user=user, item_id=item.pk, rating=3, body="非常满意 质量好 很喜欢"
        )

    review.refresh_from_db()
    assert review.sentiment_source == "model"
    assert review.sentiment > Decimal("0.5")


def test_edited_text_is_rescored(django_capture_on_commit_callbacks):
    _store_reviews(generated_reviews(120))
    train_sentiment.delay().get()
    user = MemberFactory()
    item = order_with_items(user=user, products=[ProductFactory()], status="delivered")
    with django_capture_on_commit_callbacks(execute=True):
        review = reviews.review_create(
            user=user, item_id=item.items.get().pk, rating=3, body="excellent, love it"
        )
    review.refresh_from_db()
    before = review.sentiment

    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_update(user=user, review_id=review.pk, body="terrible, broken, 差评")

    review.refresh_from_db()
    assert review.sentiment_source == "model"
    assert review.sentiment < Decimal("0.5") < before


def test_score_task_is_idempotent_and_ignores_missing_reviews():
    stored = _store_reviews(generated_reviews(120))
    sentiment.sentiment_train()

    assert score_review.delay(stored[0].pk).get() == 1
    assert score_review.delay(stored[0].pk).get() == 0
    assert score_review.delay(10**9).get() == 0
