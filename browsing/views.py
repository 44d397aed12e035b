"""Storefront pages (home, category listing, product page, search) and the member's
history pages (footprints, search history, favourites).

The storefront pages read the catalogue through ``catalog.selectors`` and write
the behaviour log through ``browsing.services`` (a product view, a search, the
product clicked from a search's results), which is why they live here and not
in ``catalog``, the lower app. Views parse the request, call selectors and
services, and hand templates evaluated lists, so no template loop queries the
database.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from browsing import selectors as history
from browsing import services
from browsing.forms import FavoriteForm
from catalog import selectors
from catalog.forms import ProductFilterForm
from config.api.errors import NotFound

PAGE_SIZE = 24
MAX_QUERY_LENGTH = 100
FOOTPRINTS_PAGE_SIZE = 30
SEARCHES_PAGE_SIZE = 50
FAVORITES_PAGE_SIZE = 24
SEARCH_REF_PARAM = "sr"


def _paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> tuple:
    """The requested page (the last one when past the end, the first when not
    a number) with its rows already fetched."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    return page, rows


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _actor(request: HttpRequest) -> dict:
    """The member, or the visitor key of an anonymous browser (created on first use)."""
    if request.user.is_authenticated:
        return {"user": request.user}
    return {"visitor": services.visitor_key(request)}


def _is_staff_preview(request: HttpRequest) -> bool:
    """A staff member who followed a link from the admin ("View on site")."""
    if not (request.user.is_authenticated and request.user.is_staff):
        return False
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    return referer.path.startswith(reverse("admin:index"))


# --- storefront -------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    departments = selectors.category_departments()
    return render(
        request,
        "catalog/home.html",
        {
            "departments": departments,
            "new_arrivals": selectors.product_new_arrivals(limit=10),
            "deals": selectors.product_deals(limit=10),
        },
    )


def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get_active(slug=slug)
    if category is None:
        raise Http404(_("No such category."))
    in_category = selectors.product_list(category=category)
    brands = selectors.brand_facets(in_category)
    form = ProductFilterForm(request.GET or None, brands=brands)
    products_qs = selectors.product_list(category=category, **form.filters())
    page, products = _paginate(request, products_qs)
    return render(
        request,
        "catalog/category.html",
        {
            "category": category,
            "breadcrumbs": selectors.category_breadcrumbs(category)[:-1],
            "subcategories": selectors.category_children(category.pk),
            "form": form,
            "page": page,
            "products": products,
            "query_string": _query_without_page(request),
        },
    )


def product_detail(request: HttpRequest, pk: int, slug: str | None = None) -> HttpResponse:
    """The product page. A GET logs a view (footprint) of the member or visitor, and
    with ``?sr=<search event id>`` the click on that search's results; HEAD
    requests and staff previews from the admin are not logged."""
    product = selectors.product_get_active(pk)
    if product is None:
        raise Http404(_("No such product."))
    search_ref = request.GET.get(SEARCH_REF_PARAM, "")[:20]
    if slug != (product.slug or "p"):
        url = product.get_absolute_url()
        if search_ref:
            url += "?" + urlencode({SEARCH_REF_PARAM: search_ref})
        return redirect(url, permanent=True)
    if request.method == "GET" and not _is_staff_preview(request):
        actor = _actor(request)
        services.product_view_record(product_id=product.pk, **actor)
        if search_ref:
            services.search_click_record(search_event_id=search_ref, product_id=product.pk, **actor)
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            "breadcrumbs": selectors.category_breadcrumbs(product.category_id),
            "attributes": selectors.product_display_attributes(product),
            "same_category": selectors.product_same_category(product, limit=8),
            "is_favorite": history.favorite_exists(user=request.user, product_id=product.pk),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    """Search results. Page 1 logs the search (query, result count); its event id
    rides on the result links (``?sr=``) so the product view records the click."""
    query = selectors.clean_query(request.GET.get("q"))[:MAX_QUERY_LENGTH]
    context: dict = {"query": query, "query_string": _query_without_page(request)}
    if not selectors.search_terms(query):
        context.update(form=None, page=None, products=[])
        return render(request, "catalog/search.html", context)
    matches = selectors.product_search(query)
    brands = selectors.brand_facets(matches)
    form = ProductFilterForm(request.GET, brands=brands, searching=True)
    page, products = _paginate(request, selectors.product_search(query, **form.filters()))
    if form.filters()["ordering"] == selectors.Ordering.RELEVANCE:
        products = selectors.products_personalised(request.user, products)
    search_ref = None
    if page.number == 1 and request.method == "GET":
        search_ref = services.search_record(
            query=query, result_count=page.paginator.count, **_actor(request)
        )
    context.update(form=form, page=page, products=products, search_ref=search_ref)
    return render(request, "catalog/search.html", context)


# --- favourites -------------------------------------------------------------------------


def _safe_next(request: HttpRequest, candidate: str, fallback: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


@require_POST
def favorite_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """The product page's favourite button: POST action=add|remove (idempotent).

    Anonymous visitors are sent to the login page, which brings them back to
    the product page.
    """
    product_url = reverse("browsing:product-short", args=[pk])
    form = FavoriteForm(request.POST)
    next_url = _safe_next(request, request.POST.get("next", ""), product_url)
    if not request.user.is_authenticated:
        return redirect_to_login(next_url)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose whether to add or remove the favourite."))
    if form.cleaned_data["action"] == FavoriteForm.ADD:
        try:
            added = services.favorite_add(user=request.user, product_id=pk)
        except NotFound:
            raise Http404(_("No such product."))
        if added:
            messages.success(request, _("Saved to your favourites."))
        else:
            messages.info(request, _("This product is already in your favourites."))
    else:
        services.favorite_remove(user=request.user, product_id=pk)
        messages.success(request, _("Removed from your favourites."))
    return redirect(next_url)


@login_required
def favorites(request: HttpRequest) -> HttpResponse:
    page, saved = _paginate(request, history.favorite_list(user=request.user), FAVORITES_PAGE_SIZE)
    return render(
        request,
        "browsing/favorites.html",
        {
            "page": page,
            "favorites": saved,
            "current_url": request.get_full_path(),
            "active_menu": "favorites",
        },
    )


# --- footprints and search history -------------------------------------------------------


@login_required
def history_views(request: HttpRequest) -> HttpResponse:
    page, rows = _paginate(request, history.history_views(user=request.user), FOOTPRINTS_PAGE_SIZE)
    return render(
        request,
        "browsing/history_views.html",
        {
            "page": page,
            "viewed": history.history_view_rows(rows),
            "current_url": request.get_full_path(),
            "active_menu": "footprints",
        },
    )


@login_required
@require_POST
def history_views_remove(request: HttpRequest, product_id: int) -> HttpResponse:
    if services.history_views_hide(user=request.user, product_id=product_id):
        messages.success(request, _("The product has been removed from your recently viewed."))
    else:
        messages.info(request, _("That product is not in your recently viewed."))
    fallback = reverse("browsing:history_views")
    return redirect(_safe_next(request, request.POST.get("next", ""), fallback))


@login_required
@require_POST
def history_views_clear(request: HttpRequest) -> HttpResponse:
    services.history_views_hide(user=request.user)
    messages.success(request, _("Your recently viewed list has been cleared."))
    return redirect("browsing:history_views")


@login_required
def history_searches(request: HttpRequest) -> HttpResponse:
    page, rows = _paginate(request, history.history_searches(user=request.user), SEARCHES_PAGE_SIZE)
    return render(
        request,
        "browsing/history_searches.html",
        {
            "page": page,
            "searches": history.history_search_rows(rows, user=request.user),
            "active_menu": "searches",
        },
    )


@login_required
@require_POST
def history_searches_clear(request: HttpRequest) -> HttpResponse:
    services.history_searches_hide(user=request.user)
    messages.success(request, _("Your search history has been cleared."))
    return redirect("browsing:history_searches")
