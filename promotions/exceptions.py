"""Domain errors of promotions, coupons and points (4xx JSON through the API handler)."""

from django.utils.translation import gettext_lazy as _

from config.api.errors import Conflict, DomainError, NotFound


class CouponError(DomainError):
    code = "coupon_invalid"
    message = _("This coupon cannot be used.")


class CouponUnknown(CouponError):
    code = "coupon_unknown"
    message = _("This coupon code does not exist.")


class CouponExpired(CouponError):
    code = "coupon_expired"
    message = _("This coupon has expired.")


class CouponNotYetValid(CouponError):
    code = "coupon_not_yet_valid"
    message = _("This coupon is not valid yet.")


class CouponOutOfScope(CouponError):
    code = "coupon_out_of_scope"
    message = _("This coupon does not apply to the items in your cart.")


class CouponNotEligible(CouponError):
    code = "coupon_not_eligible"
    message = _("This coupon is not available for your membership level.")


class CouponBelowMinSpend(CouponError):
    code = "coupon_below_min_spend"
    message = _("Spend more on eligible items to use this coupon.")


class CouponNotYours(CouponError):
    code = "coupon_not_yours"
    message = _("This coupon is in another member's wallet.")


class CouponLoginRequired(CouponError):
    code = "coupon_login_required"
    message = _("Log in to use a coupon.")


class CouponUsed(Conflict):
    code = "coupon_used"
    message = _("This coupon has already been used.")


class CouponSoldOut(Conflict):
    code = "coupon_sold_out"
    message = _("This coupon has run out.")


class CouponMemberLimit(Conflict):
    code = "coupon_member_limit"
    message = _("You have already used this coupon as many times as allowed.")


class CouponNotClaimable(CouponError):
    code = "coupon_not_claimable"
    message = _("This code cannot be claimed.")


class CouponClaimLimit(Conflict):
    code = "coupon_claim_limit"
    message = _("You already have this coupon in your wallet.")


class PointsError(DomainError):
    code = "points_invalid"
    message = _("Enter the points to use as a whole number.")


class PointsLoginRequired(PointsError):
    code = "points_login_required"
    message = _("Log in to use points.")


class PointsInsufficient(Conflict):
    code = "points_insufficient"
    message = _("You do not have that many points.")


class PointsOverLimit(PointsError):
    code = "points_over_limit"
    message = _("That is more points than can be used on this order.")


class PromotionExhausted(Conflict):
    code = "promotion_exhausted"
    message = _("A promotion in your cart has just run out; please check your cart again.")


class ExchangeItemNotFound(NotFound):
    code = "exchange_item_not_found"
    message = _("This exchange item does not exist.")


class ExchangeSoldOut(Conflict):
    code = "exchange_sold_out"
    message = _("This exchange item is out of stock.")


class ExchangeLimit(Conflict):
    code = "exchange_limit"
    message = _("You have exchanged this item as many times as allowed.")


class ExchangeAddressRequired(DomainError):
    code = "address_required"
    message = _("Add a shipping address to your account first: the gift is sent there.")


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    message = _("The Idempotency-Key must be 1 to 64 printable characters.")
