"""API: behaviour log (events batch, history, favourites)."""

from django.urls import path

from browsing.api import views

app_name = "browsing-api"
urlpatterns = [
    path("events/", views.EventBatchView.as_view(), name="events"),
    path("me/history/views/", views.HistoryViewsView.as_view(), name="history-views"),
    path(
        "me/history/views/<int:product_id>/",
        views.HistoryViewDetailView.as_view(),
        name="history-view-detail",
    ),
    path("me/history/searches/", views.HistorySearchesView.as_view(), name="history-searches"),
    path("me/favorites/", views.FavoriteListView.as_view(), name="favorites"),
    path(
        "me/favorites/<int:product_id>/",
        views.FavoriteDetailView.as_view(),
        name="favorite-detail",
    ),
]
