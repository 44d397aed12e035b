"""Reviews API: POST reviews/, GET PATCH reviews/{id}/, GET me/reviews/,
GET products/{id}/reviews/ (public)."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from browsing.models import Event
from orders import reviews
from orders.models import Order, Review
from tests.factories import MemberFactory, ProductFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status
CREATE = "/api/v1/reviews/"
MINE = "/api/v1/me/reviews/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def member():
    return MemberFactory(email="alice@example.com")


@pytest.fixture
def api(member):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=member).key}")
    return client


def _item(user, status=S.DELIVERED, product=None):
    product = product or ProductFactory()
    return order_with_items(user=user, products=[product], status=status).items.get()


def _png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _post(api, **data):
    return api.post(CREATE, data, format="json")


def _review(user, product=None, **kwargs):
    item = _item(user, product=product)
    return reviews.review_create(user=user, item_id=item.pk, **{"rating": 5, **kwargs})


def _detail(review_or_id) -> str:
    return f"/api/v1/reviews/{getattr(review_or_id, 'pk', review_or_id)}/"


def _product_url(product_id) -> str:
    return f"/api/v1/products/{product_id}/reviews/"


# --- POST reviews/ ------------------------------------------------------------------------------


def test_create_a_review(api, member):
    item = _item(member)

    response = _post(api, item=item.pk, rating=4, title="Good", body="Boils fast")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["item"], body["rating"], body["title"], body["body"]) == (
        item.pk,
        4,
        "Good",
        "Boils fast",
    )
    assert body["order_number"] == item.order.number
    assert body["product"] == item.product_id
    assert body["images"] == []
    assert "editable_until" in body
    assert Event.objects.get(event_type="rating").source == "api"


def test_create_with_images_as_multipart(api, member):
    item = _item(member)

    response = api.post(
        CREATE,
        {"item": item.pk, "rating": 5, "images": [_png("a.png"), _png("b.png")]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert len(response.json()["images"]) == 2
    assert response.json()["images"][0]["url"].startswith("http://testserver/")


def test_create_needs_authentication(member):
    item = _item(member)

    response = APIClient().post(CREATE, {"item": item.pk, "rating": 5}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("rating", [0, 6, -1, "x", 4.5, True, None, 10**20])
def test_invalid_rating_is_400(api, member, rating):
    response = _post(api, item=_item(member).pk, rating=rating)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "rating" in response.json()["detail"]
    assert not Review.objects.exists()


@pytest.mark.parametrize("missing", ["item", "rating"])
def test_missing_field_is_400(api, member, missing):
    data = {"item": _item(member).pk, "rating": 5}
    del data[missing]

    response = _post(api, **data)

    assert response.status_code == 400
    assert missing in response.json()["detail"]


@pytest.mark.parametrize("item", [0, -5, "abc", 10**30, None, [1]])
def test_malformed_item_is_400(api, item):
    response = _post(api, item=item, rating=5)

    assert response.status_code == 400
    assert "item" in response.json()["detail"]


def test_unknown_item_is_404(api):
    response = _post(api, item=999999, rating=5)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_another_members_item_is_404(api):
    item = _item(MemberFactory())

    response = _post(api, item=item.pk, rating=5)

    assert response.status_code == 404
    assert not Review.objects.exists()


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAID, S.SHIPPED, S.CANCELLED, S.REFUNDED])
def test_item_not_delivered_is_400(api, member, status):
    response = _post(api, item=_item(member, status).pk, rating=5)

    assert response.status_code == 400
    assert response.json()["code"] == "review_not_allowed"


def test_second_review_of_an_item_is_409(api, member):
    item = _item(member)
    assert _post(api, item=item.pk, rating=5).status_code == 201

    response = _post(api, item=item.pk, rating=1)

    assert response.status_code == 409
    assert response.json()["code"] == "review_exists"
    assert Review.objects.get().rating == 5


@pytest.mark.parametrize(
    "field,value",
    [("body", "x" * 2001), ("title", "t" * 121), ("body", "nul\x00"), ("body", {"x": 1})],
)
def test_invalid_text_is_400(api, member, field, value):
    response = _post(api, item=_item(member).pk, rating=5, **{field: value})

    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_non_image_upload_is_400(api, member):
    fake = SimpleUploadedFile("x.png", b"no image here", content_type="image/png")

    response = api.post(
        CREATE, {"item": _item(member).pk, "rating": 5, "images": [fake]}, format="multipart"
    )

    assert response.status_code == 400
    assert "images" in response.json()["detail"]
    assert not Review.objects.exists()


def test_six_images_are_400(api, member):
    images = [_png(f"{i}.png") for i in range(6)]

    response = api.post(
        CREATE, {"item": _item(member).pk, "rating": 5, "images": images}, format="multipart"
    )

    assert response.status_code == 400
    assert "images" in response.json()["detail"]


def test_body_that_is_not_an_object_is_400(api):
    response = api.post(CREATE, "[1, 2]", content_type="application/json")

    assert response.status_code == 400


# --- GET PATCH reviews/{id}/ ----------------------------------------------------------------------


def test_get_own_review(api, member):
    review = _review(member, title="Mine")

    response = api.get(_detail(review))

    assert response.status_code == 200
    assert response.json()["title"] == "Mine"


def test_another_members_review_is_404(api):
    review = _review(MemberFactory())

    assert api.get(_detail(review)).status_code == 404
    assert api.patch(_detail(review), {"rating": 1}, format="json").status_code == 404
    review.refresh_from_db()
    assert review.rating == 5


def test_patch_within_the_window(api, member):
    review = _review(member, rating=5, title="Great")

    response = api.patch(_detail(review), {"rating": 2, "body": "Broke"}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["rating"], response.json()["title"], response.json()["body"]) == (
        2,
        "Great",
        "Broke",
    )


def test_patch_after_the_window_is_409(api, member, settings):
    review = _review(member)
    Review.objects.filter(pk=review.pk).update(
        created_at=timezone.now() - timedelta(days=settings.REVIEW_EDIT_DAYS, minutes=1)
    )

    response = api.patch(_detail(review), {"rating": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "review_edit_closed"


@pytest.mark.parametrize("data", [{"rating": 0}, {"rating": "x"}, {"body": "y" * 2001}])
def test_patch_with_invalid_values_is_400(api, member, data):
    review = _review(member)

    response = api.patch(_detail(review), data, format="json")

    assert response.status_code == 400


def test_patch_adds_and_removes_images(api, member):
    review = _review(member, images=[_png("a.png")])
    old = review.images.get()

    response = api.patch(
        _detail(review),
        {"images": [_png("b.png"), _png("c.png")], "remove_images": [old.pk]},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert len(response.json()["images"]) == 2
    assert old.pk not in [i["id"] for i in response.json()["images"]]


def test_patch_removing_an_unknown_image_is_400(api, member):
    review = _review(member)

    response = api.patch(_detail(review), {"remove_images": [999999]}, format="json")

    assert response.status_code == 400
    assert "remove_images" in response.json()["detail"]


def test_unknown_review_is_404(api):
    assert api.patch(_detail(999999), {"rating": 1}, format="json").status_code == 404


# --- GET me/reviews/ ------------------------------------------------------------------------------


def test_my_reviews_lists_only_own_reviews(api, member):
    own = _review(member)
    _review(MemberFactory())

    response = api.get(MINE)

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [own.pk]


def test_my_reviews_needs_authentication():
    assert APIClient().get(MINE).status_code == 401


@pytest.mark.parametrize("count", [1, 20])
def test_my_reviews_query_count_does_not_grow(api, member, count, django_assert_max_num_queries):
    for _ in range(count):
        _review(member, images=[_png()])

    with django_assert_max_num_queries(4):
        response = api.get(MINE)

    assert response.json()["count"] == count


# --- GET products/{id}/reviews/ -------------------------------------------------------------------


def test_product_reviews_are_public_with_a_summary():
    product = ProductFactory()
    _review(MemberFactory(profile__display_name="Lily"), product, rating=5, body="Lovely")
    _review(MemberFactory(), product, rating=4)

    response = APIClient().get(_product_url(product.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["summary"] == {
        "average": "4.5",
        "count": 2,
        "histogram": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    }
    lily = next(r for r in body["results"] if r["body"] == "Lovely")
    assert lily["author"] == "L***"
    assert "user" not in lily and "sentiment" not in lily


def test_hidden_reviews_are_not_in_the_api_nor_the_average():
    product = ProductFactory()
    _review(MemberFactory(), product, rating=5, body="Shown")
    hidden = _review(MemberFactory(), product, rating=1, body="Hidden")
    Review.objects.filter(pk=hidden.pk).update(is_hidden=True)

    body = APIClient().get(_product_url(product.pk)).json()

    assert [r["body"] for r in body["results"]] == ["Shown"]
    assert body["summary"]["average"] == "5.0"
    assert body["summary"]["histogram"]["1"] == 0


def test_product_without_reviews_has_an_empty_summary():
    body = APIClient().get(_product_url(ProductFactory().pk)).json()

    assert body["count"] == 0
    assert body["summary"]["average"] is None
    assert body["results"] == []


def test_product_reviews_are_paginated():
    product = ProductFactory()
    for _ in range(3):
        _review(MemberFactory(), product)
    client = APIClient()

    first = client.get(_product_url(product.pk), {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == 2 and first["previous"] is None
    assert len(second["results"]) == 1 and second["next"] is None
    assert second["previous"] is not None


def test_unknown_or_inactive_product_is_404():
    inactive = ProductFactory(is_active=False)

    assert APIClient().get(_product_url(999999)).status_code == 404
    assert APIClient().get(_product_url(inactive.pk)).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"page": "x"},
        {"page": "99999999999999999999999"},
        {"page_size": "51"},
        {"page_size": "0"},
        {"page_size": "%00"},
    ],
)
def test_bad_page_parameters_are_400(query):
    response = APIClient().get(_product_url(ProductFactory().pk), query)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_page_past_the_end_is_404():
    product = ProductFactory()
    _review(MemberFactory(), product)

    assert APIClient().get(_product_url(product.pk), {"page": 2}).status_code == 404


@pytest.mark.parametrize("count", [1, 20])
def test_product_reviews_query_count_does_not_grow(count, django_assert_num_queries):
    product = ProductFactory()
    for _ in range(count):
        _review(MemberFactory(), product, images=[_png("a.png"), _png("b.png")])

    with django_assert_num_queries(4):  # product, summary, reviews, images
        response = APIClient().get(_product_url(product.pk), {"page_size": 20})

    assert len(response.json()["results"]) == count
    assert all(len(r["images"]) == 2 for r in response.json()["results"])
