"""API routes of orders (cart, checkout, orders, reviews)."""

from orders.api import cart, orders, reviews

urlpatterns = cart.urlpatterns + orders.urlpatterns + reviews.urlpatterns
