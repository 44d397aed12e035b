from django.urls import path

from recommend.api import views

app_name = "recommend-api"
urlpatterns = [
    path("recommendations/", views.RecommendationsView.as_view(), name="recommendations"),
    path("recommendations/clicks/", views.ClickView.as_view(), name="clicks"),
    path("products/<int:pk>/similar/", views.SimilarView.as_view(), name="similar"),
    path(
        "products/<int:pk>/bought-together/",
        views.BoughtTogetherView.as_view(),
        name="bought-together",
    ),
]
