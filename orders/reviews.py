"""Reviews (评价): services that write them and selectors that read them.

A member reviews each purchased order line once, after delivery (the order
is delivered or completed), with a rating 1-5, an optional title and text
and up to ``MAX_IMAGES`` images; they may edit it for
``settings.REVIEW_EDIT_DAYS`` days. Staff hide and show reviews
(``review_set_hidden``); hidden reviews leave the product page, the public
API and the average rating.

Every review carries a sentiment score in [0, 1] (``orders.sentiment``): the
rating's score at once, replaced by the classifier's score by the
``orders.tasks.score_review`` task (enqueued on commit) when a trained model
is active.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from PIL import Image
from rest_framework import status

from browsing.models import Event
from browsing.services import event_record
from config.api.errors import Conflict, DomainError, NotFound
from orders.exceptions import ReviewNotAllowed
from orders.lifecycle import REVIEWABLE
from orders.models import OrderItem, Review, ReviewImage, SentimentModel
from orders.sentiment import sentiment_from_rating
from orders.tasks.reviews import score_review

MAX_IMAGES = 5
IMAGE_MAX_BYTES = 2 * 1024 * 1024
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP"})
TITLE_MAX_LENGTH = 120
BODY_MAX_LENGTH = 2000
PRODUCT_PAGE_REVIEWS = 10
# A review counts as negative for recommendations below this sentiment (or at <= 2 stars).
NEGATIVE_SENTIMENT = Decimal("0.4")
NEGATIVE_MAX_RATING = 2


# --- errors ------------------------------------------------------------------------------------


class ReviewInvalid(DomainError):
    code = "validation_error"
    message = _("The request is invalid.")


class ReviewExists(Conflict):
    code = "review_exists"
    message = _("You have already reviewed this item.")


class ReviewEditClosed(Conflict):
    code = "review_edit_closed"
    message = _("This review can no longer be edited.")


class ReviewNotFound(NotFound):
    code = "not_found"
    message = _("Review not found.")


class ReviewItemNotFound(NotFound):
    code = "not_found"
    message = _("Order item not found.")


class ModerationNotAllowed(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"
    message = _("Only staff can hide or show reviews.")


# --- validation ---------------------------------------------------------------------------------


def review_image_check(file) -> None:
    """Raise ``ValidationError`` unless ``file`` is a JPEG, PNG, GIF or WebP image of <= 2 MB.

    The content is opened with Pillow, so a renamed text file is refused whatever
    its name or declared content type.
    """
    size = getattr(file, "size", None)
    if size is None:
        raise ValidationError(_("Upload an image file."), code="invalid_image")
    if size > IMAGE_MAX_BYTES:
        raise ValidationError(_("The image is too large: at most 2 MB."), code="file_too_large")
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
            image.verify()
    except Exception:  # Pillow raises many types for broken or non-image content
        raise ValidationError(
            _("Upload a valid image. The file is not an image or is damaged."),
            code="invalid_image",
        )
    finally:
        file.seek(0)
    if image_format not in IMAGE_FORMATS:
        raise ValidationError(_("Use a JPEG, PNG, GIF or WebP image."), code="invalid_image_format")


def _clean_text(value, *, field: str, max_length: int, errors: dict) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = [_t("Enter text.")]
        return ""
    value = value.strip()
    if "\x00" in value:
        errors[field] = [_t("Null characters are not allowed.")]
    elif len(value) > max_length:
        errors[field] = [
            ngettext(
                "Use at most %(limit)d character (it has %(count)d).",
                "Use at most %(limit)d characters (it has %(count)d).",
                max_length,
            )
            % {"limit": max_length, "count": len(value)}
        ]
    return value


def _clean_rating(value, errors: dict) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        errors["rating"] = [_t("Give a rating from 1 to 5 stars.")]
        return 0
    return value


def _clean_images(images: Sequence, errors: dict, *, room: int = MAX_IMAGES) -> list:
    images = list(images or [])
    if len(images) > room:
        errors["images"] = [
            ngettext(
                "A review can have at most %(count)d image.",
                "A review can have at most %(count)d images.",
                MAX_IMAGES,
            )
            % {"count": MAX_IMAGES}
        ]
        return []
    problems = []
    for position, file in enumerate(images, start=1):
        try:
            review_image_check(file)
        except ValidationError as exc:
            name = getattr(file, "name", "") or str(position)
            problems.extend(f"{name}: {message}" for message in exc.messages)
    if problems:
        errors["images"] = problems
    return images


def _clean_source(source: str) -> str:
    return source if source in Event.Source.values else Event.Source.WEB


def _as_id(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


# --- rules shared by pages and services --------------------------------------------------------


def review_edit_deadline(review: Review) -> datetime:
    return review.created_at + timedelta(days=settings.REVIEW_EDIT_DAYS)


def review_is_editable(review: Review, *, now: datetime | None = None) -> bool:
    return (now or timezone.now()) <= review_edit_deadline(review)


def review_check_allowed(*, item: OrderItem) -> None:
    """Raise unless ``item`` (with its order loaded) can be reviewed now by its buyer.

    ``ReviewNotAllowed`` (400) before delivery, after cancellation or for a
    fully refunded line; ``ReviewExists`` (409) once reviewed.
    """
    if item.order.status not in REVIEWABLE:
        raise ReviewNotAllowed(
            _t("You can review an item once its order has been delivered."),
            detail={"status": item.order.status},
        )
    if item.refunded_quantity >= item.quantity:
        raise ReviewNotAllowed(_t("This item was refunded, so it cannot be reviewed."))
    if Review.objects.filter(item_id=item.pk).exists():
        raise ReviewExists()


def _enqueue_scoring(review_id: int) -> None:
    """Score the review with the classifier after commit, if one is trained."""
    if SentimentModel.objects.filter(is_active=True).exists():
        transaction.on_commit(lambda: score_review.delay(review_id))


def _delete_files(names: list[str], storage) -> None:
    for name in names:
        with contextlib.suppress(OSError):
            storage.delete(name)


# --- services --------------------------------------------------------------------------------


def review_create(
    *,
    user,
    item_id: int,
    rating: int,
    title: str = "",
    body: str = "",
    images: Sequence[UploadedFile] = (),
    source: str = Event.Source.WEB,
) -> Review:
    """Write the member's review of one of their delivered order lines.

    Only the buyer (another member's or an unknown line is ``ReviewItemNotFound``,
    404), only when the order is delivered or completed and the line is not
    fully refunded (``ReviewNotAllowed``), once per line (``ReviewExists``, also
    when two requests race: the OneToOne constraint decides). ``rating`` is an
    int 1..5, ``title`` <= 120 and ``body`` <= 2000 characters, up to 5 images of
    <= 2 MB each (``ReviewInvalid`` with field errors in ``detail``).

    Side effects: a "rating" event (value = rating, ref = order number) in the
    behaviour log; the sentiment is the rating's score at once, and scoring by
    the classifier is enqueued on commit when a model is active.
    """
    errors: dict = {}
    rating = _clean_rating(rating, errors)
    title = _clean_text(title, field="title", max_length=TITLE_MAX_LENGTH, errors=errors)
    body = _clean_text(body, field="body", max_length=BODY_MAX_LENGTH, errors=errors)
    images = _clean_images(images, errors)
    pk = _as_id(item_id)
    item = None
    if pk is not None:
        item = (
            OrderItem.objects.select_related("order").filter(pk=pk, order__user_id=user.pk).first()
        )
    if item is None:
        raise ReviewItemNotFound()
    review_check_allowed(item=item)
    if errors:
        raise ReviewInvalid(detail=errors)

    now = timezone.now()
    stored: list[str] = []
    storage = ReviewImage._meta.get_field("image").storage
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    review = Review.objects.create(
                        item=item,
                        user_id=user.pk,
                        product_id=item.product_id,
                        rating=rating,
                        title=title,
                        body=body,
                        sentiment=sentiment_from_rating(rating),
                        sentiment_source=Review.SentimentSource.RATING,
                        created_at=now,
                        updated_at=now,
                    )
            except IntegrityError:
                raise ReviewExists()
            for position, file in enumerate(images):
                image = ReviewImage(review=review, position=position)
                image.image.save(file.name or f"review-{position}.jpg", file, save=False)
                stored.append(image.image.name)
                image.save()
            event_record(
                user=user,
                event_type=Event.Type.RATING,
                product_id=item.product_id,
                value=Decimal(rating),
                ref=item.order.number,
                source=_clean_source(source),
                occurred_at=now,
            )
            _enqueue_scoring(review.pk)
    except Exception:
        _delete_files(stored, storage)
        raise
    return review


_UNSET = object()


def review_update(
    *,
    user,
    review_id: int,
    rating=_UNSET,
    title=_UNSET,
    body=_UNSET,
    add_images: Sequence[UploadedFile] = (),
    remove_image_ids: Sequence[int] = (),
    source: str = Event.Source.WEB,
) -> Review:
    """Change the member's own review within ``settings.REVIEW_EDIT_DAYS`` of its creation.

    Only the fields given change. ``add_images`` are appended and
    ``remove_image_ids`` (ids of this review's images) removed, at most
    ``MAX_IMAGES`` in the end. Another member's review is ``ReviewNotFound``;
    after the window ``ReviewEditClosed`` (409). A changed rating writes a new
    "rating" event; changed text or rating resets the sentiment to the
    rating's score and re-enqueues classifier scoring. Removed image files are
    deleted after commit.
    """
    pk = _as_id(review_id)
    errors: dict = {}
    if rating is not _UNSET:
        rating = _clean_rating(rating, errors)
    if title is not _UNSET:
        title = _clean_text(title, field="title", max_length=TITLE_MAX_LENGTH, errors=errors)
    if body is not _UNSET:
        body = _clean_text(body, field="body", max_length=BODY_MAX_LENGTH, errors=errors)
    storage = ReviewImage._meta.get_field("image").storage
    stored: list[str] = []
    try:
        with transaction.atomic():
            review = None
            if pk is not None:
                review = (
                    Review.objects.select_for_update(of=("self",))
                    .select_related("item__order")
                    .filter(pk=pk, user_id=user.pk)
                    .first()
                )
            if review is None:
                raise ReviewNotFound()
            now = timezone.now()
            if not review_is_editable(review, now=now):
                raise ReviewEditClosed(detail={"editable_until": review_edit_deadline(review)})
            existing = list(review.images.all())
            existing_ids = {image.pk for image in existing}
            remove_ids = set()
            for raw in remove_image_ids or ():
                image_id = _as_id(raw)
                if image_id not in existing_ids:
                    errors.setdefault("remove_images", []).append(
                        _t("Image %(id)s is not one of this review's images.") % {"id": raw}
                    )
                else:
                    remove_ids.add(image_id)
            add_images = _clean_images(
                add_images, errors, room=MAX_IMAGES - len(existing_ids - remove_ids)
            )
            if errors:
                raise ReviewInvalid(detail=errors)

            old_rating = review.rating
            fields = []
            for name, value in (("rating", rating), ("title", title), ("body", body)):
                if value is not _UNSET and getattr(review, name) != value:
                    setattr(review, name, value)
                    fields.append(name)
            if fields or remove_ids or add_images:
                review.updated_at = now
                if fields:
                    review.sentiment = sentiment_from_rating(review.rating)
                    review.sentiment_source = Review.SentimentSource.RATING
                    fields += ["sentiment", "sentiment_source"]
                review.save(update_fields=[*fields, "updated_at"])
            if remove_ids:
                names = [image.image.name for image in existing if image.pk in remove_ids]
                ReviewImage.objects.filter(pk__in=remove_ids).delete()
                transaction.on_commit(lambda: _delete_files(names, storage))
            next_position = max((image.position for image in existing), default=-1) + 1
            for offset, file in enumerate(add_images):
                image = ReviewImage(review=review, position=next_position + offset)
                image.image.save(file.name or f"review-{offset}.jpg", file, save=False)
                stored.append(image.image.name)
                image.save()
            if "rating" in fields and review.rating != old_rating:
                event_record(
                    user=user,
                    event_type=Event.Type.RATING,
                    product_id=review.product_id,
                    value=Decimal(review.rating),
                    ref=review.item.order.number,
                    source=_clean_source(source),
                    occurred_at=now,
                )
            if fields:
                _enqueue_scoring(review.pk)
    except Exception:
        _delete_files(stored, storage)
        raise
    return review


def review_set_hidden(*, review_id: int, hidden: bool, by) -> Review:
    """Staff moderation: hide a review from the product page, the public API and the
    average rating, or show it again. ``by`` must be a staff member."""
    if not getattr(by, "is_staff", False):
        raise ModerationNotAllowed()
    pk = _as_id(review_id)
    with transaction.atomic():
        review = (
            Review.objects.select_for_update().filter(pk=pk).first() if pk is not None else None
        )
        if review is None:
            raise ReviewNotFound()
        if review.is_hidden != bool(hidden):
            review.is_hidden = bool(hidden)
            review.updated_at = timezone.now()
            review.save(update_fields=["is_hidden", "updated_at"])
    return review


# --- selectors ---------------------------------------------------------------------------------


class RatingSummary(NamedTuple):
    """Average (Decimal, one place; None without reviews), count and stars -> count."""

    average: Decimal | None
    count: int
    histogram: dict[int, int]

    @property
    def bars(self) -> list[tuple[int, int, int]]:
        """(stars, count, percent of all) from 5 stars down to 1, for the histogram."""
        return [
            (stars, n, round(100 * n / self.count) if self.count else 0)
            for stars, n in sorted(self.histogram.items(), reverse=True)
        ]


def product_rating_summary(product_id: int) -> RatingSummary:
    """The visible reviews' average rating, count and histogram, in one aggregate query."""
    counts = Review.objects.filter(product_id=product_id, is_hidden=False).aggregate(
        **{f"r{stars}": Count("id", filter=Q(rating=stars)) for stars in range(1, 6)}
    )
    histogram = {stars: counts[f"r{stars}"] for stars in range(1, 6)}
    total = sum(histogram.values())
    average = None
    if total:
        points = sum(stars * n for stars, n in histogram.items())
        average = (Decimal(points) / Decimal(total)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    return RatingSummary(average, total, histogram)


def mask_name(name: str) -> str:
    """A reviewer's name as the product page shows it: first character and "***"."""
    name = (name or "").strip()
    return f"{name[0]}***" if name else "***"


def _visible_reviews(product_id: int) -> QuerySet[Review]:
    return (
        Review.objects.filter(product_id=product_id, is_hidden=False)
        .annotate(author_name=F("user__profile__display_name"), author_email=F("user__email"))
        .prefetch_related("images")
        .order_by("-created_at", "-id")
    )


def product_reviews(
    product_id: int, page: int = 1, *, per_page: int = PRODUCT_PAGE_REVIEWS
) -> list[Review]:
    """One page (1-based) of a product's visible reviews, newest first, evaluated.

    Two queries whatever the page size: the reviews (with the author's name
    joined) and their images. Each review has ``author`` set to the masked
    display name (or email local part), e.g. "L***".
    """
    page = max(1, int(page))
    start = (page - 1) * per_page
    reviews = list(_visible_reviews(product_id)[start : start + per_page])
    for review in reviews:
        review.author = mask_name(review.author_name or (review.author_email or "").split("@")[0])
    return reviews


def reviews_for_user(user) -> QuerySet[Review]:
    """The member's own reviews (hidden ones too), newest first, with product, order and images."""
    return (
        Review.objects.filter(user_id=user.pk)
        .select_related("product", "item__order")
        .prefetch_related("images")
        .order_by("-created_at", "-id")
    )


def review_get_for_user(*, user, review_id: int) -> Review:
    """The member's own review or ``ReviewNotFound``."""
    pk = _as_id(review_id)
    review = reviews_for_user(user).filter(pk=pk).first() if pk is not None else None
    if review is None:
        raise ReviewNotFound()
    return review


def review_item_for_user(*, user, item_id: int) -> OrderItem:
    """One of the member's own order lines (any status) or ``ReviewItemNotFound``."""
    pk = _as_id(item_id)
    item = (
        OrderItem.objects.select_related("order", "product")
        .filter(pk=pk, order__user_id=user.pk)
        .first()
        if pk is not None
        else None
    )
    if item is None:
        raise ReviewItemNotFound()
    return item


def reviewable_items_for_user(user) -> QuerySet[OrderItem]:
    """The member's lines waiting for a review: order delivered or completed, not fully
    refunded, not reviewed yet; newest order first."""
    return (
        OrderItem.objects.filter(
            order__user_id=user.pk,
            order__status__in=REVIEWABLE,
            review__isnull=True,
            refunded_quantity__lt=F("quantity"),
        )
        .select_related("order", "product")
        .order_by("-order__placed_at", "-order_id", "id")
    )


def negative_reviews_for_user(user) -> list[int]:
    """Ids of the products the member reviewed negatively, newest review first.

    A review is negative when its sentiment is below 0.4 (the classifier's
    P(positive), or the rating's score ``(rating - 1) / 4`` before a model is
    trained) or its rating is 2 stars or fewer, so a harsh text under a middling
    rating counts too. Hidden reviews count (they are still the member's
    opinion); reviews of deleted products do not. For the recommender: avoid
    these products and items similar to them.
    """
    rows = (
        Review.objects.filter(user_id=user.pk, product__isnull=False)
        .filter(Q(sentiment__lt=NEGATIVE_SENTIMENT) | Q(rating__lte=NEGATIVE_MAX_RATING))
        .order_by("-created_at", "-id")
        .values_list("product_id", flat=True)
    )
    return list(dict.fromkeys(rows))
