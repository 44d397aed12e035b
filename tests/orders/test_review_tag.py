"""The product page's review section ({% product_reviews product %}) and {% rating_stars %}."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.utils import timezone
from PIL import Image

from orders import reviews
from orders.models import Review
from tests.factories import MemberFactory, ProductFactory, order_with_items

pytestmark = pytest.mark.django_db

TAG = Template("{% load reviews %}{% product_reviews product %}")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _review(product, rating=5, *, name="Lily", body="Lovely", images=0, hidden=False):
    user = MemberFactory(profile__display_name=name)
    item = order_with_items(user=user, products=[product], status="completed").items.get()
    review = reviews.review_create(
        user=user,
        item_id=item.pk,
        rating=rating,
        body=body,
        images=[_png(f"{i}.png") for i in range(images)],
    )
    if hidden:
        Review.objects.filter(pk=review.pk).update(is_hidden=True)
    return review


def _render(product) -> str:
    return TAG.render(Context({"product": product}))


def test_tag_shows_average_count_histogram_and_reviews():
    product = ProductFactory()
    _review(product, 5, name="Lily", body="Lovely kettle")
    _review(product, 4, name="王小明", body="不错")

    html = _render(product)

    assert "4.5" in html
    assert "2 reviews" in html
    assert "Lovely kettle" in html and "不错" in html
    assert "L***" in html and "王***" in html
    assert "Lily" not in html and "王小明" not in html
    assert 'aria-label="4.5 out of 5 stars"' in html


def test_tag_leaves_out_hidden_reviews_and_their_rating():
    product = ProductFactory()
    _review(product, 5, body="Visible praise")
    _review(product, 1, body="Hidden rant", hidden=True)

    html = _render(product)

    assert "Visible praise" in html
    assert "Hidden rant" not in html
    assert "1 review" in html
    assert ">5.0<" in html


def test_tag_without_reviews_says_so_in_one_query(django_assert_num_queries):
    product = ProductFactory()

    with django_assert_num_queries(1):
        html = _render(product)

    assert "No reviews yet" in html


def test_tag_shows_the_latest_ten_reviews():
    product = ProductFactory()
    for n in range(12):
        review = _review(product, body=f"review number {n:02d}")
        Review.objects.filter(pk=review.pk).update(
            created_at=timezone.now() - timedelta(hours=12 - n)
        )

    html = _render(product)

    assert "review number 11" in html and "review number 02" in html
    assert "review number 01" not in html
    assert "Showing the latest 10 of 12 reviews." in html


def test_tag_shows_review_images():
    product = ProductFactory()
    review = _review(product, images=2)

    html = _render(product)

    for image in review.images.all():
        assert image.image.url in html


@pytest.mark.parametrize("count", [1, 20])
def test_tag_query_count_does_not_grow_with_reviews_and_images(count, django_assert_num_queries):
    product = ProductFactory()
    for n in range(count):
        _review(product, rating=1 + n % 5, name=f"Member {n}", images=2)

    with django_assert_num_queries(3):
        html = _render(product)

    assert html.count('class="review"') == min(count, 10)


@pytest.mark.parametrize(
    "value,percent,label",
    [(5, 100, "5 out of 5"), ("4.3", 86, "4.3 out of 5"), (0, 0, "0 out of 5"), (7, 100, "5")],
)
def test_rating_stars_fills_to_the_value(value, percent, label):
    html = Template("{% load reviews %}{% rating_stars value %}").render(Context({"value": value}))

    assert f"width: {percent}%" in html
    assert label in html


@pytest.mark.parametrize("value", [None, "", "abc", "NaN"])
def test_rating_stars_without_a_value_says_not_rated(value):
    html = Template("{% load reviews %}{% rating_stars value %}").render(Context({"value": value}))

    assert "Not rated yet" in html
