"""Review pages: write a review, edit it within the window, and "My reviews"."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from browsing.models import Event
from orders import reviews
from orders.models import Order, Review
from tests.factories import MemberFactory, ProductFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def _item(user, status=S.DELIVERED, name="Tea kettle"):
    product = ProductFactory(name=name)
    return order_with_items(user=user, products=[product], status=status).items.get()


def _png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _create_url(item) -> str:
    return reverse("orders:review_create", args=[item.pk])


def _edit_url(review) -> str:
    return reverse("orders:review_edit", args=[review.pk])


def _post_review(client, item, **overrides):
    data = {"rating": "4", "title": "Good kettle", "body": "Boils fast.", **overrides}
    return client.post(_create_url(item), data)


def _review(user, **kwargs):
    item = _item(user)
    return reviews.review_create(user=user, item_id=item.pk, **{"rating": 5, **kwargs})


# --- access -------------------------------------------------------------------------------------


def test_pages_send_visitors_to_login(client, member):
    review = _review(member)
    for url in (_create_url(_item(member)), _edit_url(review), reverse("orders:my_reviews")):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_another_members_item_is_404(member_client):
    item = _item(MemberFactory())

    assert member_client.get(_create_url(item)).status_code == 404
    assert _post_review(member_client, item).status_code == 404
    assert not Review.objects.exists()


def test_unknown_item_is_404(member_client):
    assert member_client.get(reverse("orders:review_create", args=[999999])).status_code == 404


def test_another_members_review_cannot_be_edited(member_client):
    review = _review(MemberFactory())

    assert member_client.get(_edit_url(review)).status_code == 404
    assert member_client.post(_edit_url(review), {"rating": "1"}).status_code == 404
    review.refresh_from_db()
    assert review.rating == 5


# --- writing --------------------------------------------------------------------------------------


def test_review_form_shows_the_item_and_five_star_choices(member_client, member):
    item = _item(member, name="Copper kettle")

    response = member_client.get(_create_url(item))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Copper kettle" in html
    assert html.count('type="radio" class="visually-hidden" name="rating"') == 5
    assert 'enctype="multipart/form-data"' in html
    assert response.context["active_menu"] == "reviews"


def test_member_writes_a_review(member_client, member):
    item = _item(member)

    response = _post_review(member_client, item)

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:my_reviews")
    review = Review.objects.get()
    assert (review.item_id, review.rating, review.title) == (item.pk, 4, "Good kettle")
    assert Event.objects.filter(event_type="rating", user=member, source="web").count() == 1


def test_member_writes_a_review_with_images(member_client, member):
    item = _item(member)

    response = member_client.post(
        _create_url(item), {"rating": "5", "images": [_png("a.png"), _png("b.png")]}
    )

    assert response.status_code == 302
    assert Review.objects.get().images.count() == 2


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAID, S.SHIPPED, S.CANCELLED])
def test_undelivered_item_cannot_be_reviewed(member_client, member, status):
    item = _item(member, status)

    page = member_client.get(_create_url(item))
    posted = _post_review(member_client, item)

    assert page.status_code == 400
    assert "once its order has been delivered" in page.content.decode()
    assert posted.status_code == 400
    assert not Review.objects.exists()


def test_reviewed_item_leads_to_the_edit_page(member_client, member):
    review = _review(member)

    response = _post_review(member_client, review.item, rating="1")

    assert response.status_code == 302
    assert response["Location"] == _edit_url(review)
    assert Review.objects.get().rating == 5


@pytest.mark.parametrize("rating", ["0", "6", "x", "", "4.5", "-1"])
def test_invalid_rating_is_a_form_error(member_client, member, rating):
    response = _post_review(member_client, _item(member), rating=rating)

    assert response.status_code == 200
    assert response.context["form"].errors["rating"]
    assert not Review.objects.exists()


def test_missing_rating_is_a_form_error(member_client, member):
    response = member_client.post(_create_url(_item(member)), {"body": "No stars"})

    assert "Choose a rating from 1 to 5 stars." in response.content.decode()
    assert not Review.objects.exists()


def test_too_long_text_is_a_form_error(member_client, member):
    response = _post_review(member_client, _item(member), body="x" * 2001)

    assert response.context["form"].errors["body"]
    assert not Review.objects.exists()


def test_non_image_upload_is_a_form_error(member_client, member):
    fake = SimpleUploadedFile("photo.jpg", b"plain text", content_type="image/jpeg")

    response = member_client.post(_create_url(_item(member)), {"rating": "5", "images": [fake]})

    assert response.status_code == 200
    assert response.context["form"].errors["images"]
    assert not Review.objects.exists()


def test_six_images_are_a_form_error(member_client, member):
    images = [_png(f"{i}.png") for i in range(6)]

    response = member_client.post(_create_url(_item(member)), {"rating": "5", "images": images})

    assert "at most 5 images" in str(response.context["form"].errors["images"])
    assert not Review.objects.exists()


# --- editing --------------------------------------------------------------------------------------


def test_edit_form_is_prefilled(member_client, member):
    review = _review(member, rating=3, title="Okay")

    response = member_client.get(_edit_url(review))

    assert response.status_code == 200
    assert response.context["form"].initial["rating"] == 3
    assert 'value="Okay"' in response.content.decode()


def test_member_edits_a_review_within_the_window(member_client, member):
    review = _review(member, rating=5)

    response = member_client.post(_edit_url(review), {"rating": "2", "body": "Leaks now."})

    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.rating, review.body) == (2, "Leaks now.")


def test_member_removes_an_image_when_editing(member_client, member):
    review = _review(member, images=[_png("a.png"), _png("b.png")])
    first = review.images.first()

    response = member_client.post(
        _edit_url(review), {"rating": "5", "remove_images": [str(first.pk)]}
    )

    assert response.status_code == 302
    assert list(review.images.values_list("pk", flat=True)) != [first.pk]
    assert review.images.count() == 1


def test_edit_after_the_window_is_refused(member_client, member, settings):
    review = _review(member, rating=5)
    Review.objects.filter(pk=review.pk).update(
        created_at=timezone.now() - timedelta(days=settings.REVIEW_EDIT_DAYS + 1)
    )

    page = member_client.get(_edit_url(review))
    posted = member_client.post(_edit_url(review), {"rating": "1"})

    assert page.status_code == 200
    assert "can no longer be edited" in page.content.decode()
    assert "form" not in page.context or page.context.get("form") is None
    assert posted.status_code == 409
    review.refresh_from_db()
    assert review.rating == 5


def test_invalid_edit_is_a_form_error(member_client, member):
    review = _review(member, rating=5)

    response = member_client.post(_edit_url(review), {"rating": "9"})

    assert response.status_code == 200
    assert response.context["form"].errors["rating"]


# --- my reviews -----------------------------------------------------------------------------------


def test_my_reviews_lists_own_reviews_and_items_waiting(member_client, member):
    _review(member, title="Mine, reviewed")
    waiting = _item(member, S.COMPLETED, name="Waiting teapot")
    _review(MemberFactory(), title="Someone else's")

    response = member_client.get(reverse("orders:my_reviews"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Mine, reviewed" in html
    assert "Someone else&#x27;s" not in html and "Someone else's" not in html
    assert "Waiting teapot" in html
    assert _create_url(waiting) in html
    assert response.context["active_menu"] == "reviews"


def test_my_reviews_offers_edit_only_within_the_window(member_client, member, settings):
    fresh = _review(member)
    old = _review(member)
    Review.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.REVIEW_EDIT_DAYS + 1)
    )

    html = member_client.get(reverse("orders:my_reviews")).content.decode()

    assert _edit_url(fresh) in html
    assert _edit_url(old) not in html


def test_my_reviews_marks_hidden_reviews(member_client, member):
    review = _review(member)
    Review.objects.filter(pk=review.pk).update(is_hidden=True)

    html = member_client.get(reverse("orders:my_reviews")).content.decode()

    assert "Hidden by the shop" in html


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "%00"])
def test_my_reviews_survives_hostile_page_numbers(member_client, member, page):
    _review(member)

    assert member_client.get(reverse("orders:my_reviews"), {"page": page}).status_code == 200


@pytest.mark.parametrize("count", [1, 15])
def test_my_reviews_query_count_does_not_grow(
    member_client, member, count, django_assert_max_num_queries
):
    for n in range(count):
        _review(member, title=f"Review {n}", images=[_png()])
        _item(member, S.DELIVERED, name=f"Waiting {n}")

    # session, user, count, reviews, images, waiting items, cart badge, departments nav
    with django_assert_max_num_queries(8):
        response = member_client.get(reverse("orders:my_reviews"))

    assert len(response.context["own_reviews"]) == count
    assert len(response.context["pending"]) == count
