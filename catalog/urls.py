from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("c/<str:slug>/", views.category_detail, name="category"),
    path("p/<int:pk>/", views.product_detail, name="product-short"),
    path("p/<int:pk>/<str:slug>/", views.product_detail, name="product"),
]
