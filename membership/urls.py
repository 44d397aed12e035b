from django.urls import path

from membership import views

app_name = "membership"

urlpatterns = [
    path("membership/", views.membership_page, name="membership"),
    path("membership/profile/", views.profile_page, name="profile"),
    path("membership/profile/interests/", views.interest_update, name="interest_update"),
]
