"""The click link of recommended items: log the click, go to the product."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from recommend import tracking


def click(request: HttpRequest, list_id: int, product_id: int) -> HttpResponse:
    tracking.click_record(list_id=list_id, product_id=product_id, user=request.user)
    if product_id <= 0:
        raise Http404
    return redirect(reverse("browsing:product-short", args=[product_id]))
