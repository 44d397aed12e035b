"""Storefront pages and the member's history pages (namespace ``browsing``)."""

from django.urls import path

from browsing import views

app_name = "browsing"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("c/<str:slug>/", views.category_detail, name="category"),
    path("p/<int:pk>/", views.product_detail, name="product-short"),
    path("p/<int:pk>/favorite/", views.favorite_toggle, name="favorite_toggle"),
    path("p/<int:pk>/<str:slug>/", views.product_detail, name="product"),
    path("account/favorites/", views.favorites, name="favorites"),
    path("account/footprints/", views.history_views, name="history_views"),
    path("account/footprints/clear/", views.history_views_clear, name="history_views_clear"),
    path(
        "account/footprints/<int:product_id>/remove/",
        views.history_views_remove,
        name="history_views_remove",
    ),
    path("account/searches/", views.history_searches, name="history_searches"),
    path("account/searches/clear/", views.history_searches_clear, name="history_searches_clear"),
]
