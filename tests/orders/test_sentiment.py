"""Review sentiment classifier: fallback before training, cross-validated training on
generated English and Chinese reviews, persistence, scoring and rescoring."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from orders import sentiment
from orders.models import Review, SentimentModel
from tests.factories import MemberFactory, OrderFactory, OrderItemFactory, ProductFactory

# A small bilingual vocabulary: polar words decide the label, neutral words are noise, and
# some reviews carry a word of the other side so the task is not trivially separable.
POSITIVE = {
    "en": ["great", "excellent", "love it", "perfect", "fast delivery", "good quality",
           "highly recommend", "very happy", "works well", "worth the money"],
    "zh": ["很好", "非常满意", "质量好", "物流快", "推荐购买", "很喜欢", "好评", "性价比高",
           "做工精细", "值得"],
}  # fmt: skip
NEGATIVE = {
    "en": ["broken", "poor quality", "terrible", "asked for a refund", "disappointed",
           "slow delivery", "cheap plastic", "stopped working", "waste of money",
           "not as described"],
    "zh": ["很差", "失望", "质量差", "坏了", "退货", "不推荐", "差评", "做工粗糙", "不值",
           "物流太慢"],
}  # fmt: skip
NEUTRAL = {
    "en": ["the", "product", "arrived", "box", "colour", "size", "price", "it", "was", "my",
           "order", "this", "for", "home", "use"],
    "zh": ["东西", "收到", "包装", "颜色", "尺寸", "价格", "这个", "家里", "用了", "几天",
           "快递", "商品"],
}  # fmt: skip


def generated_reviews(n: int, *, seed: int = 7, noise: float = 0.15):
    """``n`` (text, rating, language) tuples, about half Chinese, about 40 % negative."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        language = "zh" if rng.random() < 0.5 else "en"
        positive = rng.random() < 0.6
        own, other = (POSITIVE, NEGATIVE) if positive else (NEGATIVE, POSITIVE)
        words = list(rng.choice(own[language], size=2, replace=False))
        if rng.random() < noise:
            words.append(str(rng.choice(other[language])))
        words += list(rng.choice(NEUTRAL[language], size=int(rng.integers(3, 7))))
        rng.shuffle(words)
        joiner = "" if language == "zh" else " "
        rating = int(rng.choice([4, 5])) if positive else int(rng.choice([1, 2]))
        rows.append((joiner.join(words), rating, language))
    return rows


def _store_reviews(rows, *, hidden: bool = False):
    """Reviews in the database, oldest first, one order line each."""
    user = MemberFactory()
    order = OrderFactory(user=user, status="completed")
    product = ProductFactory()
    start = timezone.now() - timedelta(days=len(rows) + 1)
    reviews = []
    for i, (text, rating, _language) in enumerate(rows):
        item = OrderItemFactory(order=order, product=product)
        reviews.append(
            Review(
                item=item,
                user=user,
                product=product,
                rating=rating,
                body=text,
                is_hidden=hidden,
                created_at=start + timedelta(days=i),
                updated_at=start + timedelta(days=i),
                sentiment=sentiment.sentiment_from_rating(rating),
                sentiment_source=Review.SentimentSource.RATING,
            )
        )
    return Review.objects.bulk_create(reviews)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    sentiment._loaded.clear()
    yield
    sentiment._loaded.clear()


# --- rating fallback and labels ---------------------------------------------------------------


@pytest.mark.parametrize(
    "rating,expected", [(1, "0.000"), (2, "0.250"), (3, "0.500"), (4, "0.750"), (5, "1.000")]
)
def test_rating_fallback_is_rating_minus_one_over_four(rating, expected):
    assert sentiment.sentiment_from_rating(rating) == Decimal(expected)


@pytest.mark.parametrize("rating,label", [(1, 0), (2, 0), (3, None), (4, 1), (5, 1)])
def test_labels_come_from_ratings_with_three_stars_left_out(rating, label):
    assert sentiment.rating_label(rating) == label


def test_review_text_joins_title_and_body_and_is_empty_when_both_blank():
    assert sentiment.review_text(" Great ", "Works well ") == "Great\nWorks well"
    assert sentiment.review_text("", "  ") == ""


# --- fitting without the database ------------------------------------------------------------


def test_fit_refuses_too_few_labelled_reviews():
    rows = generated_reviews(sentiment.MIN_LABELLED_REVIEWS - 1)
    texts = [t for t, _r, _l in rows]
    labels = [sentiment.rating_label(r) for _t, r, _l in rows]

    assert sentiment.sentiment_fit(texts, labels) is None


def test_fit_refuses_when_one_class_has_fewer_than_the_minimum():
    texts = [f"great product {i}" for i in range(50)] + ["broken"] * (sentiment.MIN_PER_CLASS - 1)
    labels = [1] * 50 + [0] * (sentiment.MIN_PER_CLASS - 1)

    assert sentiment.sentiment_fit(texts, labels) is None


def test_fit_beats_the_majority_baseline_on_english_and_chinese_reviews():
    rows = generated_reviews(300)
    texts = [t for t, _r, _l in rows]
    labels = [sentiment.rating_label(r) for _t, r, _l in rows]

    result = sentiment.sentiment_fit(texts, labels)

    assert result is not None
    assert result.n_holdout == 60 and result.n_train == 240
    assert result.accuracy >= result.baseline_accuracy + 0.2
    assert result.accuracy > result.guess_accuracy + 0.2
    assert result.auc is not None and result.auc > 0.9


def test_fit_scores_unseen_chinese_and_english_texts_in_the_right_direction():
    rows = generated_reviews(300)
    result = sentiment.sentiment_fit(
        [t for t, _r, _l in rows], [sentiment.rating_label(r) for _t, r, _l in rows]
    )

    positive, negative = result.pipeline.predict_proba(
        ["非常满意 质量好 物流快", "质量差 坏了 失望"]
    )[:, 1]
    good, bad = result.pipeline.predict_proba(
        ["excellent, love it, works well", "terrible, broken, waste of money"]
    )[:, 1]

    assert positive > 0.5 > negative
    assert good > 0.5 > bad


def test_fit_chooses_settings_by_cross_validation_on_the_older_part_only():
    rows = generated_reviews(200, seed=11, noise=0.3)
    texts = [t for t, _r, _l in rows]
    labels = [sentiment.rating_label(r) for _t, r, _l in rows]

    result = sentiment.sentiment_fit(texts, labels, refit_all=False)

    # The same search, run by hand on the oldest 80 % with the same folds, agrees.
    split = 160
    search = GridSearchCV(
        sentiment.sentiment_pipeline(),
        sentiment.PARAM_GRID,
        scoring="roc_auc",
        cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
    ).fit(texts[:split], labels[:split])
    assert result.cv_folds == 5
    assert result.best_params == search.best_params_
    assert result.cv_auc == pytest.approx(search.best_score_)
    assert result.best_params["clf__C"] in sentiment.PARAM_GRID["clf__C"]


def test_fit_keeps_the_newest_fifth_as_hold_out():
    # The newest fifth is one text labelled both ways, seen nowhere before: only a
    # time-ordered hold-out makes it the whole test set, where nothing beats a coin.
    old = generated_reviews(160, seed=3, noise=0.0)
    texts = [t for t, _r, _l in old] + ["xyz"] * 40
    labels = [sentiment.rating_label(r) for _t, r, _l in old] + [1, 0] * 20

    result = sentiment.sentiment_fit(texts, labels, refit_all=False)

    assert result.n_holdout == 40
    assert result.cv_auc > 0.95
    assert result.accuracy == 0.5
    assert result.auc == 0.5


# --- training on the database -----------------------------------------------------------------


@pytest.mark.django_db
def test_train_returns_none_and_stores_nothing_below_the_minimum():
    _store_reviews(generated_reviews(30))

    assert sentiment.sentiment_train() is None
    assert not SentimentModel.objects.exists()


@pytest.mark.django_db
def test_train_leaves_out_hidden_and_three_star_reviews():
    _store_reviews(generated_reviews(30))
    _store_reviews(generated_reviews(30, seed=8), hidden=True)
    _store_reviews([("fine I guess", 3, "en")] * 30)

    assert sentiment.sentiment_train() is None


@pytest.mark.django_db
def test_train_persists_an_active_model_with_its_metrics():
    _store_reviews(generated_reviews(120))

    model = sentiment.sentiment_train()

    model.refresh_from_db()
    assert model.is_active
    assert model.reviews_used == 120
    assert model.accuracy > model.baseline_accuracy
    assert model.params["best"]["clf__C"] in sentiment.PARAM_GRID["clf__C"]
    assert model.params["holdout_size"] == 24
    assert model.params["holdout_auc"] > 0.8
    assert len(bytes(model.blob)) > 0


@pytest.mark.django_db
def test_a_new_model_becomes_the_only_active_one():
    _store_reviews(generated_reviews(120))
    first = sentiment.sentiment_train()

    second = sentiment.sentiment_train(force=True)

    assert list(SentimentModel.objects.filter(is_active=True)) == [second]
    first.refresh_from_db()
    assert not first.is_active


@pytest.mark.django_db
def test_training_again_without_review_changes_stores_no_duplicate():
    _store_reviews(generated_reviews(120))
    sentiment.sentiment_train()

    again = sentiment.sentiment_train()

    assert again is None
    assert SentimentModel.objects.count() == 1


@pytest.mark.django_db
def test_a_changed_review_makes_training_run_again():
    reviews = _store_reviews(generated_reviews(120))
    sentiment.sentiment_train()
    Review.objects.filter(pk=reviews[0].pk).update(updated_at=timezone.now())

    assert sentiment.sentiment_train() is not None
    assert SentimentModel.objects.count() == 2


@pytest.mark.django_db
def test_old_models_beyond_the_kept_number_are_deleted():
    _store_reviews(generated_reviews(120))
    old = timezone.now() - timedelta(days=30)
    for days in range(sentiment.MODELS_KEPT + 1):
        SentimentModel.objects.create(
            trained_at=old + timedelta(days=days), reviews_used=1, blob=b"-", is_active=False
        )

    newest = sentiment.sentiment_train()

    kept = list(SentimentModel.objects.order_by("-trained_at"))
    assert len(kept) == sentiment.MODELS_KEPT
    assert kept[0] == newest


# --- scoring ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_scoring_without_a_model_returns_none():
    assert sentiment.sentiment_score_texts(["great"]) is None


@pytest.mark.django_db
def test_stored_model_scores_texts_as_decimals_in_the_unit_interval():
    _store_reviews(generated_reviews(120))
    sentiment.sentiment_train()
    sentiment._loaded.clear()  # as in another process: load from the database

    good, bad = sentiment.sentiment_score_texts(["非常满意 很喜欢", "terrible, broken"])

    assert isinstance(good, Decimal) and good.as_tuple().exponent == -3
    assert Decimal("0.5") < good <= 1
    assert 0 <= bad < Decimal("0.5")


@pytest.mark.django_db
def test_loaded_model_is_cached_per_process_by_id(django_assert_num_queries):
    _store_reviews(generated_reviews(120))
    model = sentiment.sentiment_train()
    sentiment.sentiment_score_texts(["great"])

    with django_assert_num_queries(1):  # only "which model is active?", no blob
        sentiment.sentiment_score_texts(["great"])
    assert list(sentiment._loaded) == [model.pk]


@pytest.mark.django_db
def test_rescore_uses_the_model_for_texts_and_the_rating_for_empty_reviews():
    reviews = _store_reviews(generated_reviews(120))
    empty = _store_reviews([("", 5, "en")])[0]
    sentiment.sentiment_train()

    changed = sentiment.reviews_rescore()

    assert changed == 120
    scored = Review.objects.get(pk=reviews[0].pk)
    assert scored.sentiment_source == Review.SentimentSource.MODEL
    empty.refresh_from_db()
    assert (empty.sentiment, empty.sentiment_source) == (Decimal("1.000"), "rating")


@pytest.mark.django_db
def test_rescore_twice_changes_nothing_the_second_time():
    _store_reviews(generated_reviews(120))
    sentiment.sentiment_train()
    sentiment.reviews_rescore()

    assert sentiment.reviews_rescore() == 0


@pytest.mark.django_db
def test_rescore_of_given_ids_touches_only_those_reviews():
    reviews = _store_reviews(generated_reviews(120))
    sentiment.sentiment_train()

    assert sentiment.reviews_rescore([reviews[0].pk, reviews[1].pk]) == 2
    assert Review.objects.filter(sentiment_source="model").count() == 2


@pytest.mark.django_db
def test_rescore_works_in_batches(django_assert_max_num_queries):
    _store_reviews(generated_reviews(120))
    sentiment.sentiment_train()
    sentiment.reviews_rescore(batch_size=50)  # warm the model cache

    Review.objects.update(sentiment=None)
    assert sentiment.reviews_rescore(batch_size=50) == 120
    assert not Review.objects.filter(sentiment__isnull=True).exists()
