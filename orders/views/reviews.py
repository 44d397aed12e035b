"""Storefront pages: write and edit a review, and the member's reviews page.

The form parses and validates input (star rating 1-5, title, text, up to five
images); ``orders.reviews`` decides and writes. Another member's item or
review is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.api.errors import DomainError, NotFound
from orders import reviews

MY_REVIEWS_PER_PAGE = 20
PENDING_ITEMS_SHOWN = 50

# --- forms -----------------------------------------------------------------------------------


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.ImageField):
    """Several image files in one input; each must be a real image of at most 2 MB."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultipleImageInput(attrs={"accept": "image/*", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        cleaned, errors = [], []
        for file in files:
            try:
                cleaned.append(super().clean(file, initial))
                reviews.review_image_check(file)
            except ValidationError as exc:
                errors.extend(f"{file.name}: {message}" for message in exc.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


class ReviewForm(forms.Form):
    # Five to one: the star widget lays the choices out right to left.
    RATING_CHOICES = [
        (5, _("5 stars: excellent")),
        (4, _("4 stars: good")),
        (3, _("3 stars: average")),
        (2, _("2 stars: poor")),
        (1, _("1 star: very poor")),
    ]

    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a rating from 1 to 5 stars."),
            "invalid_choice": _("Choose a rating from 1 to 5 stars."),
        },
    )
    title = forms.CharField(label=_("Title"), max_length=reviews.TITLE_MAX_LENGTH, required=False)
    body = forms.CharField(
        label=_("Your review"),
        max_length=reviews.BODY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What did you like or dislike? At most 2000 characters."),
    )
    images = MultipleImageField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to 5 JPEG, PNG, GIF or WebP images of at most 2 MB each."),
    )
    remove_images = forms.TypedMultipleChoiceField(
        label=_("Remove photos"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, existing_images=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.existing_images = list(existing_images)
        if self.existing_images:
            self.fields["remove_images"].choices = [
                (image.pk, _t("Photo %(number)s") % {"number": n})
                for n, image in enumerate(self.existing_images, start=1)
            ]
        else:
            del self.fields["remove_images"]

    def clean(self):
        cleaned = super().clean()
        kept = len(self.existing_images) - len(cleaned.get("remove_images") or [])
        if kept + len(cleaned.get("images") or []) > reviews.MAX_IMAGES:
            self.add_error(
                "images",
                ngettext(
                    "A review can have at most %(count)d image.",
                    "A review can have at most %(count)d images.",
                    reviews.MAX_IMAGES,
                )
                % {"count": reviews.MAX_IMAGES},
            )
        return cleaned


def _add_domain_error(form: forms.Form, exc: DomainError) -> None:
    if isinstance(exc.detail, dict) and exc.detail:
        for field, messages_ in exc.detail.items():
            target = "images" if field == "remove_images" else field
            form.add_error(target if target in form.fields else None, messages_)
    else:
        form.add_error(None, str(exc.message))


# --- pages -----------------------------------------------------------------------------------


@login_required
def review_create(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        item = reviews.review_item_for_user(user=request.user, item_id=item_id)
    except NotFound:
        raise Http404(_t("Order item not found."))
    context = {"item": item, "review": None, "active_menu": "reviews"}
    try:
        reviews.review_check_allowed(item=item)
    except reviews.ReviewExists:
        messages.info(request, _t("You have already reviewed this item."))
        return redirect("orders:review_edit", review_id=item.review.pk)
    except DomainError as exc:
        context["blocked"] = exc.message
        return render(request, "orders/review_form.html", context, status=exc.status_code)

    form = ReviewForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            reviews.review_create(
                user=request.user,
                item_id=item.pk,
                rating=form.cleaned_data["rating"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                images=form.cleaned_data["images"],
            )
        except NotFound:
            raise Http404(_t("Order item not found."))
        except DomainError as exc:
            _add_domain_error(form, exc)
            status = exc.status_code
        else:
            messages.success(request, _t("Thank you! Your review has been published."))
            return redirect("orders:my_reviews")
    return render(request, "orders/review_form.html", {**context, "form": form}, status=status)


@login_required
def review_edit(request: HttpRequest, review_id: int) -> HttpResponse:
    try:
        review = reviews.review_get_for_user(user=request.user, review_id=review_id)
    except NotFound:
        raise Http404(_t("Review not found."))
    context = {
        "item": review.item,
        "review": review,
        "deadline": reviews.review_edit_deadline(review),
        "active_menu": "reviews",
    }
    if not reviews.review_is_editable(review):
        context["blocked"] = reviews.ReviewEditClosed.message
        status = 409 if request.method == "POST" else 200
        return render(request, "orders/review_form.html", context, status=status)

    existing = list(review.images.all())
    form = ReviewForm(
        request.POST or None,
        request.FILES or None,
        initial={"rating": review.rating, "title": review.title, "body": review.body},
        existing_images=existing,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            reviews.review_update(
                user=request.user,
                review_id=review.pk,
                rating=form.cleaned_data["rating"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                add_images=form.cleaned_data["images"],
                remove_image_ids=form.cleaned_data.get("remove_images") or [],
            )
        except NotFound:
            raise Http404(_t("Review not found."))
        except DomainError as exc:
            _add_domain_error(form, exc)
            status = exc.status_code
        else:
            messages.success(request, _t("Your review has been saved."))
            return redirect("orders:my_reviews")
    image_choices = list(zip(form["remove_images"], existing, strict=True)) if existing else []
    context.update(form=form, image_choices=image_choices)
    return render(request, "orders/review_form.html", context, status=status)


@login_required
def my_reviews(request: HttpRequest) -> HttpResponse:
    """The member's reviews (newest first, paginated) and the items waiting for one."""
    page = Paginator(reviews.reviews_for_user(request.user), MY_REVIEWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    own = list(page.object_list)
    for review in own:
        review.editable = reviews.review_is_editable(review, now=now)
    pending = list(reviews.reviewable_items_for_user(request.user)[:PENDING_ITEMS_SHOWN])
    return render(
        request,
        "orders/my_reviews.html",
        {"page": page, "own_reviews": own, "pending": pending, "active_menu": "reviews"},
    )


urlpatterns = [
    path("orders/items/<int:item_id>/review/", review_create, name="review_create"),
    path("reviews/<int:review_id>/edit/", review_edit, name="review_edit"),
    path("reviews/mine/", my_reviews, name="my_reviews"),
]
