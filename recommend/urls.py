from django.urls import path

from recommend import views

app_name = "recommend"
urlpatterns = [
    path("r/<int:list_id>/<int:product_id>/", views.click, name="click"),
]
