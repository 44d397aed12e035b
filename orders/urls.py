"""Storefront routes of orders; each page module brings its own patterns."""

from orders.views import cart, checkout, orders, reviews

app_name = "orders"
urlpatterns = cart.urlpatterns + checkout.urlpatterns + orders.urlpatterns + reviews.urlpatterns
