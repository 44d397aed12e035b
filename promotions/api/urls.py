"""API routes of promotions (loyalty: points, coupons, exchange)."""

from django.urls import path

from promotions.api import views

urlpatterns = [
    path("me/points/", views.PointsView.as_view(), name="api-me-points"),
    path("me/points/history/", views.PointsHistoryView.as_view(), name="api-me-points-history"),
    path("me/coupons/", views.CouponsView.as_view(), name="api-me-coupons"),
    path("coupons/claim/", views.ClaimView.as_view(), name="api-coupons-claim"),
    path("points/exchange/items/", views.ExchangeItemsView.as_view(), name="api-exchange-items"),
    path("points/exchange/", views.ExchangeView.as_view(), name="api-points-exchange"),
]
