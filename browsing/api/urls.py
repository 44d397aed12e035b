"""API: behaviour log (events batch, history, favourites)."""

urlpatterns: list = []
