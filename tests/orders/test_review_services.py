"""Review services and selectors: who may review what and when, validation, edit window,
moderation, rating summary, the rating event and the sentiment fallback."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from browsing.models import Event
from config.api.errors import NotFound
from orders import reviews
from orders.exceptions import ReviewNotAllowed
from orders.models import Order, Review, ReviewImage, SentimentModel
from tests.factories import MemberFactory, ProductFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def member():
    return MemberFactory(email="li.lei@example.com")


def _item(user, status=S.DELIVERED, product=None):
    order = order_with_items(user=user, products=[product or ProductFactory()], status=status)
    return order.items.get()


def _png(name="photo.png", size=(16, 16)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _create(user, item, **kwargs):
    values = {"rating": 5, "title": "Great", "body": "Works well", **kwargs}
    return reviews.review_create(user=user, item_id=item.pk, **values)


# --- who may review what -------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DELIVERED, S.COMPLETED])
def test_buyer_reviews_a_delivered_or_completed_item(member, status):
    item = _item(member, status)

    review = _create(member, item)

    assert (review.item_id, review.user_id, review.product_id) == (
        item.pk,
        member.pk,
        item.product_id,
    )
    assert (review.rating, review.title, review.body) == (5, "Great", "Works well")


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAID, S.SHIPPED, S.CANCELLED, S.REFUNDED])
def test_item_cannot_be_reviewed_before_delivery_or_after_cancel_or_refund(member, status):
    item = _item(member, status)

    with pytest.raises(ReviewNotAllowed):
        _create(member, item)
    assert not Review.objects.exists()


def test_fully_refunded_line_cannot_be_reviewed(member):
    item = _item(member, S.COMPLETED)
    item.refunded_quantity = item.quantity
    item.save()

    with pytest.raises(ReviewNotAllowed):
        _create(member, item)


def test_partly_refunded_line_can_be_reviewed(member):
    order = order_with_items(
        user=member, products=[ProductFactory()], quantities=[2], status=S.COMPLETED
    )
    item = order.items.get()
    item.refunded_quantity = 1
    item.save()

    assert _create(member, item).pk


def test_another_members_item_is_not_found(member):
    item = _item(MemberFactory())

    with pytest.raises(NotFound):
        _create(member, item)


@pytest.mark.parametrize("item_id", [0, -1, 10**30, "abc", None, 999999])
def test_unknown_or_malformed_item_id_is_not_found(member, item_id):
    with pytest.raises(NotFound):
        reviews.review_create(user=member, item_id=item_id, rating=5)


def test_second_review_of_the_same_item_is_refused(member):
    item = _item(member)
    _create(member, item)

    with pytest.raises(reviews.ReviewExists):
        _create(member, item, rating=1)
    assert Review.objects.get().rating == 5


def test_review_without_text_is_accepted(member):
    review = reviews.review_create(user=member, item_id=_item(member).pk, rating=3)

    assert (review.title, review.body) == ("", "")


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [0, 6, -1, "x", "5", 4.5, None, True])
def test_rating_must_be_an_int_from_1_to_5(member, rating):
    with pytest.raises(reviews.ReviewInvalid) as exc:
        _create(member, _item(member), rating=rating)
    assert "rating" in exc.value.detail


def test_body_longer_than_2000_characters_is_refused(member):
    with pytest.raises(reviews.ReviewInvalid) as exc:
        _create(member, _item(member), body="好" * 2001)
    assert "body" in exc.value.detail


def test_body_of_exactly_2000_characters_is_accepted(member):
    assert len(_create(member, _item(member), body="好" * 2000).body) == 2000


def test_title_longer_than_120_characters_is_refused(member):
    with pytest.raises(reviews.ReviewInvalid) as exc:
        _create(member, _item(member), title="t" * 121)
    assert "title" in exc.value.detail


def test_null_character_in_text_is_refused(member):
    with pytest.raises(reviews.ReviewInvalid) as exc:
        _create(member, _item(member), body="bad\x00text")
    assert "body" in exc.value.detail


def test_images_are_stored_in_order(member):
    review = _create(member, _item(member), images=[_png("a.png"), _png("b.png")])

    images = list(review.images.all())
    assert [i.position for i in images] == [0, 1]
    assert all(i.image.storage.exists(i.image.name) for i in images)


def test_more_than_five_images_are_refused(member):
    with pytest.raises(reviews.ReviewInvalid) as exc:
        _create(member, _item(member), images=[_png(f"{i}.png") for i in range(6)])
    assert "images" in exc.value.detail
    assert not ReviewImage.objects.exists()


def test_non_image_upload_is_refused(member):
    fake = SimpleUploadedFile("photo.png", b"not an image at all", content_type="image/png")

    with pytest.raises(reviews.ReviewInvalid) as exc:
        _create(member, _item(member), images=[fake])
    assert "images" in exc.value.detail
    assert not Review.objects.exists()


def test_image_over_2_mb_is_refused(member):
    big = _png()
    big.size = reviews.IMAGE_MAX_BYTES + 1

    with pytest.raises(reviews.ReviewInvalid) as exc:
        _create(member, _item(member), images=[big])
    assert "images" in exc.value.detail


def test_image_in_an_unsupported_format_is_refused(member):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "BMP")
    bmp = SimpleUploadedFile("x.bmp", buffer.getvalue(), content_type="image/bmp")

    with pytest.raises(reviews.ReviewInvalid):
        _create(member, _item(member), images=[bmp])


# --- side effects -----------------------------------------------------------------------------


def test_review_writes_a_rating_event(member):
    item = _item(member)

    _create(member, item, rating=4, source=Event.Source.API)

    event = Event.objects.get(event_type=Event.Type.RATING)
    assert (event.user_id, event.product_id, event.value, event.ref, event.source) == (
        member.pk,
        item.product_id,
        Decimal("4"),
        item.order.number,
        "api",
    )


def test_sentiment_falls_back_to_the_rating_before_any_model(member):
    review = _create(member, _item(member), rating=2)

    review.refresh_from_db()
    assert (review.sentiment, review.sentiment_source) == (Decimal("0.250"), "rating")


def test_scoring_is_enqueued_on_commit_only_when_a_model_is_active(
    member, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(reviews.score_review, "delay", lambda review_id: queued.append(review_id))
    with django_capture_on_commit_callbacks(execute=True):
        _create(member, _item(member))
    assert queued == []

    SentimentModel.objects.create(reviews_used=40, blob=b"-", is_active=True)
    with django_capture_on_commit_callbacks(execute=True):
        review = _create(member, _item(member))

    assert queued == [review.pk]


# --- editing -------------------------------------------------------------------------------


def test_member_edits_own_review_within_the_window(member):
    review = _create(member, _item(member), rating=5)

    reviews.review_update(user=member, review_id=review.pk, rating=2, body="Broke after a week")

    review.refresh_from_db()
    assert (review.rating, review.title, review.body) == (2, "Great", "Broke after a week")
    assert review.sentiment == Decimal("0.250")


def test_edit_after_the_window_is_refused(member, settings):
    review = _create(member, _item(member))
    Review.objects.filter(pk=review.pk).update(
        created_at=timezone.now() - timedelta(days=settings.REVIEW_EDIT_DAYS, seconds=1)
    )

    with pytest.raises(reviews.ReviewEditClosed):
        reviews.review_update(user=member, review_id=review.pk, rating=1)
    review.refresh_from_db()
    assert review.rating == 5


def test_edit_on_the_last_day_of_the_window_is_allowed(member, settings):
    review = _create(member, _item(member))
    Review.objects.filter(pk=review.pk).update(
        created_at=timezone.now() - timedelta(days=settings.REVIEW_EDIT_DAYS) + timedelta(hours=1)
    )

    reviews.review_update(user=member, review_id=review.pk, rating=1)

    review.refresh_from_db()
    assert review.rating == 1


def test_another_members_review_cannot_be_edited(member):
    review = _create(member, _item(member))

    with pytest.raises(NotFound):
        reviews.review_update(user=MemberFactory(), review_id=review.pk, rating=1)


def test_changed_rating_writes_a_new_rating_event(member):
    review = _create(member, _item(member), rating=5)

    reviews.review_update(user=member, review_id=review.pk, rating=1)

    values = list(
        Event.objects.filter(event_type="rating").order_by("id").values_list("value", flat=True)
    )
    assert values == [Decimal("5"), Decimal("1")]


def test_unchanged_rating_writes_no_new_event(member):
    review = _create(member, _item(member), rating=5)

    reviews.review_update(user=member, review_id=review.pk, rating=5, body="Still great")

    assert Event.objects.filter(event_type="rating").count() == 1


def test_edit_adds_and_removes_images_up_to_five(member):
    review = _create(member, _item(member), images=[_png("a.png"), _png("b.png")])
    first = review.images.first()

    reviews.review_update(
        user=member,
        review_id=review.pk,
        add_images=[_png("c.png"), _png("d.png"), _png("e.png"), _png("f.png")],
        remove_image_ids=[first.pk],
    )

    assert review.images.count() == 5
    assert not ReviewImage.objects.filter(pk=first.pk).exists()


def test_edit_refuses_a_sixth_image(member):
    review = _create(member, _item(member), images=[_png(f"{i}.png") for i in range(5)])

    with pytest.raises(reviews.ReviewInvalid):
        reviews.review_update(user=member, review_id=review.pk, add_images=[_png()])
    assert review.images.count() == 5


def test_edit_refuses_removing_another_reviews_image(member):
    other = _create(member, _item(member), images=[_png()])
    review = _create(member, _item(member))

    with pytest.raises(reviews.ReviewInvalid):
        reviews.review_update(
            user=member, review_id=review.pk, remove_image_ids=[other.images.get().pk]
        )
    assert other.images.count() == 1


def test_edit_validates_like_create(member):
    review = _create(member, _item(member))

    with pytest.raises(reviews.ReviewInvalid):
        reviews.review_update(user=member, review_id=review.pk, rating=9)


# --- moderation ----------------------------------------------------------------------------


def test_staff_hides_and_shows_a_review(member):
    review = _create(member, _item(member))
    staff = UserFactory(is_staff=True)

    reviews.review_set_hidden(review_id=review.pk, hidden=True, by=staff)
    review.refresh_from_db()
    assert review.is_hidden
    reviews.review_set_hidden(review_id=review.pk, hidden=False, by=staff)
    review.refresh_from_db()
    assert not review.is_hidden


def test_non_staff_cannot_hide_a_review(member):
    review = _create(member, _item(member))

    with pytest.raises(reviews.ModerationNotAllowed):
        reviews.review_set_hidden(review_id=review.pk, hidden=True, by=member)


def test_hiding_an_unknown_review_is_not_found():
    with pytest.raises(NotFound):
        reviews.review_set_hidden(review_id=999, hidden=True, by=UserFactory(is_staff=True))


# --- selectors ----------------------------------------------------------------------------------


def _review(product, rating, *, hidden=False, user=None):
    user = user or MemberFactory()
    review = _create(user, _item(user, product=product), rating=rating)
    if hidden:
        Review.objects.filter(pk=review.pk).update(is_hidden=True)
    return review


def test_rating_summary_counts_visible_reviews_only(django_assert_num_queries):
    product = ProductFactory()
    for rating in (5, 5, 4, 2):
        _review(product, rating)
    _review(product, 1, hidden=True)
    _review(ProductFactory(), 1)

    with django_assert_num_queries(1):
        summary = reviews.product_rating_summary(product.pk)

    assert summary.average == Decimal("4.0")
    assert summary.count == 4
    assert summary.histogram == {1: 0, 2: 1, 3: 0, 4: 1, 5: 2}
    assert summary.bars[0] == (5, 2, 50)


def test_rating_summary_rounds_the_average_half_up_to_one_place():
    product = ProductFactory()
    for rating in (5, 4, 4, 4):  # 4.25
        _review(product, rating)

    assert reviews.product_rating_summary(product.pk).average == Decimal("4.3")


def test_rating_summary_without_reviews():
    summary = reviews.product_rating_summary(ProductFactory().pk)

    assert (summary.average, summary.count) == (None, 0)


def test_product_reviews_are_visible_newest_first_with_masked_authors():
    product = ProductFactory()
    old = _review(product, 5, user=MemberFactory(profile__display_name="Lily"))
    Review.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))
    new = _review(product, 4, user=MemberFactory(profile__display_name="王小明"))
    _review(product, 1, hidden=True)

    page = reviews.product_reviews(product.pk)

    assert [r.pk for r in page] == [new.pk, old.pk]
    assert [r.author for r in page] == ["王***", "L***"]


def test_author_without_display_name_is_masked_from_the_email():
    product = ProductFactory()
    _review(product, 5, user=UserFactory(email="zoe@example.com"))

    assert reviews.product_reviews(product.pk)[0].author == "z***"


def test_product_reviews_pages():
    product = ProductFactory()
    for _ in range(3):
        _review(product, 5)

    assert len(reviews.product_reviews(product.pk, 1, per_page=2)) == 2
    assert len(reviews.product_reviews(product.pk, 2, per_page=2)) == 1


def test_reviews_for_user_lists_only_own_reviews_hidden_included(member):
    own = _create(member, _item(member))
    Review.objects.filter(pk=own.pk).update(is_hidden=True)
    _review(ProductFactory(), 5)

    assert [r.pk for r in reviews.reviews_for_user(member)] == [own.pk]


def test_reviewable_items_are_own_delivered_unreviewed_and_not_refunded(member):
    waiting = _item(member, S.DELIVERED)
    completed = _item(member, S.COMPLETED)
    _create(member, _item(member, S.COMPLETED))  # reviewed
    _item(member, S.SHIPPED)
    refunded = _item(member, S.COMPLETED)
    refunded.refunded_quantity = refunded.quantity
    refunded.save()
    _item(MemberFactory(), S.DELIVERED)

    items = reviews.reviewable_items_for_user(member)

    assert {i.pk for i in items} == {waiting.pk, completed.pk}


def test_negative_reviews_for_user_by_rating_or_sentiment(member):
    low_rating = _create(member, _item(member), rating=2)
    harsh_text = _create(member, _item(member), rating=3)
    Review.objects.filter(pk=harsh_text.pk).update(
        sentiment=Decimal("0.120"), sentiment_source="model"
    )
    _create(member, _item(member), rating=5)
    _review(ProductFactory(), 1)  # someone else's

    assert set(reviews.negative_reviews_for_user(member)) == {
        low_rating.product_id,
        harsh_text.product_id,
    }


def test_mask_name():
    assert reviews.mask_name("Li Lei") == "L***"
    assert reviews.mask_name("  ") == "***"
