"""Storefront pages: home, category listing, product page and search.

Views parse the request, call selectors and hand templates evaluated lists,
so no template loop queries the database.
"""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from catalog import selectors
from catalog.forms import ProductFilterForm

PAGE_SIZE = 24
MAX_QUERY_LENGTH = 100


def _paginate(request: HttpRequest, queryset) -> tuple:
    """The requested page (the last one when past the end, the first when not
    a number) with its products already fetched."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    products = list(page.object_list)
    return page, products


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


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
    product = selectors.product_get_active(pk)
    if product is None:
        raise Http404(_("No such product."))
    if slug != (product.slug or "p"):
        return redirect(product, permanent=True)
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            "breadcrumbs": selectors.category_breadcrumbs(product.category_id),
            "attributes": selectors.product_display_attributes(product),
            "same_category": selectors.product_same_category(product, limit=8),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    query = selectors.clean_query(request.GET.get("q"))[:MAX_QUERY_LENGTH]
    context: dict = {"query": query, "query_string": _query_without_page(request)}
    if not selectors.search_terms(query):
        context.update(form=None, page=None, products=[])
        return render(request, "catalog/search.html", context)
    matches = selectors.product_search(query)
    brands = selectors.brand_facets(matches)
    form = ProductFilterForm(request.GET, brands=brands, searching=True)
    page, products = _paginate(request, selectors.product_search(query, **form.filters()))
    context.update(form=form, page=page, products=products)
    return render(request, "catalog/search.html", context)
