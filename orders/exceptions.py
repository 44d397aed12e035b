"""Domain errors of orders; the API exception handler turns them into 4xx JSON."""

from django.utils.translation import gettext_lazy as _

from config.api.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = _("Order not found.")


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    message = _("The order cannot move to that status now.")


class OutOfStock(Conflict):
    code = "out_of_stock"
    message = _("Not enough stock.")


class CartEmpty(DomainError):
    code = "cart_empty"
    message = _("Your cart is empty.")


class ProductUnavailable(DomainError):
    code = "product_unavailable"
    message = _("This product is not available.")


class PaymentFailed(DomainError):
    code = "payment_failed"
    message = _("The payment was declined.")


class ReviewNotAllowed(DomainError):
    code = "review_not_allowed"
    message = _("You cannot review this item.")
