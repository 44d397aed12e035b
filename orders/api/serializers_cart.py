"""API shapes of the cart, checkout and payment (money leaves as strings)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from orders.cart import MAX_ID, CartView
from orders.paying import SIMULATE_CHOICES


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


# --- input ---------------------------------------------------------------------------------


class CartItemCreateSerializer(serializers.Serializer):
    product = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("Product id (from products/).")
    )
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=settings.CART_MAX_QUANTITY,
        default=1,
        help_text=_("Pieces to add to the cart line (added to what is already there)."),
    )


class CartItemUpdateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=settings.CART_MAX_QUANTITY,
        help_text=_("New quantity of the line; DELETE the line to remove it."),
    )


class CheckoutSerializer(serializers.Serializer):
    address_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=_("One of the member's addresses (me/addresses/).")
    )
    note = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", trim_whitespace=True
    )
    coupon_code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("A coupon code (a wallet coupon's code, a single-use or a public code)."),
    )
    points = serializers.IntegerField(
        min_value=0,
        max_value=10**9,
        required=False,
        default=0,
        help_text=_("Points to spend on the order (see GET cart/ for the most usable)."),
    )


class CartQuerySerializer(serializers.Serializer):
    """GET cart/?coupon_code=&points= previews the cart with a coupon and points."""

    coupon_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    points = serializers.IntegerField(min_value=0, max_value=10**9, required=False, default=0)

    def options(self) -> dict:
        data = self.validated_data
        return {"coupon": data["coupon_code"].strip().upper(), "points": data["points"]}


class PaySerializer(serializers.Serializer):
    simulate = serializers.ChoiceField(
        choices=SIMULATE_CHOICES,
        required=False,
        allow_null=True,
        help_text=_('"fail" makes the simulated payment provider decline.'),
    )


# --- cart output ---------------------------------------------------------------------------


class CartProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(help_text=_("In the request's language."))
    url = serializers.CharField()
    image = serializers.CharField(allow_null=True)
    price = money()
    stock = serializers.IntegerField()
    is_active = serializers.BooleanField()


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("Cart line id for PATCH / DELETE cart/items/{id}/."))
    product = CartProductSerializer()
    quantity = serializers.IntegerField()
    max_quantity = serializers.IntegerField(
        help_text=_("Most this line may hold now (0: the product cannot be bought).")
    )
    unit_price = money()
    line_total = money()
    discount = money(allow_null=True)
    payable = money(allow_null=True, help_text=_("Null when the line is left out of the totals."))
    in_total = serializers.BooleanField(help_text=_("Whether the line counts in the totals."))
    problem = serializers.ChoiceField(
        choices=["inactive", "out_of_stock", "insufficient_stock"],
        allow_null=True,
        help_text=_("Why the line blocks checkout; null when it is fine."),
    )
    problem_message = serializers.CharField(allow_blank=True)


class DiscountSerializer(serializers.Serializer):
    source = serializers.CharField()
    code = serializers.CharField()
    label = serializers.CharField()
    amount = money()


class RejectionSerializer(serializers.Serializer):
    option = serializers.CharField(help_text=_('"coupon" or "points".'))
    code = serializers.CharField(help_text=_("The error code checkout would answer with."))
    message = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    """One row of why the discounts are what they are: a promotion (applied, not_chosen,
    not_eligible with a reason), the coupon, or the points available."""

    source = serializers.CharField()
    code = serializers.CharField()
    label = serializers.CharField()
    status = serializers.CharField()
    amount = money(allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True)
    message = serializers.CharField(required=False, allow_blank=True)
    exclusive = serializers.BooleanField(required=False)
    balance = serializers.IntegerField(required=False, help_text=_("Points: the balance."))
    max_points = serializers.IntegerField(
        required=False, help_text=_("Points: the most usable on this cart.")
    )
    max_amount = money(required=False, help_text=_("Points: what max_points is worth."))
    points_per_unit = serializers.IntegerField(required=False)
    limit = serializers.IntegerField(
        required=False,
        help_text=_(
            'Promotion: its uses per member when `reason` is "members_only" (a visitor; '
            "`amount` is what it would save once logged in)."
        ),
    )


class FreeShippingSerializer(serializers.Serializer):
    source = serializers.CharField()
    code = serializers.CharField()
    label = serializers.CharField()
    threshold = money()


class HintSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    amount = money(allow_null=True)


class CartSerializer(serializers.Serializer):
    items = CartLineSerializer(many=True)
    item_count = serializers.IntegerField()
    subtotal = money()
    discounts = DiscountSerializer(many=True)
    discount_total = money()
    shipping_fee = money()
    total = money()
    currency = serializers.CharField()
    hints = HintSerializer(many=True)
    can_checkout = serializers.BooleanField()
    coupon_code = serializers.CharField(allow_blank=True)
    points = serializers.IntegerField()
    rejections = RejectionSerializer(many=True)
    explanation = ExplanationSerializer(many=True)
    free_shipping = FreeShippingSerializer(allow_null=True)

    @staticmethod
    def represent(view: CartView, request=None) -> dict:
        def image(product):
            if not product.image:
                return None
            url = product.image.url
            return request.build_absolute_uri(url) if request is not None else url

        items = []
        for line in view.lines:
            product = line.product
            priced = line.priced
            items.append(
                {
                    "id": line.item_id,
                    "product": {
                        "id": product.pk,
                        "sku": product.sku,
                        "name": product.display_name,
                        "url": product.get_absolute_url(),
                        "image": image(product),
                        "price": product.price,
                        "stock": product.stock,
                        "is_active": product.is_active,
                    },
                    "quantity": line.quantity,
                    "max_quantity": line.max_quantity,
                    "unit_price": priced.unit_price if priced else product.price,
                    "line_total": priced.line_total if priced else product.price * line.quantity,
                    "discount": priced.discount if priced else None,
                    "payable": priced.payable if priced else None,
                    "in_total": priced is not None,
                    "problem": line.problem or None,
                    "problem_message": line.problem_message,
                }
            )
        priced = view.priced
        return CartSerializer(
            {
                "items": items,
                "item_count": view.item_count,
                "subtotal": priced.subtotal,
                "discounts": priced.discounts,
                "discount_total": priced.discount_total,
                "shipping_fee": priced.shipping_fee,
                "total": priced.total,
                "currency": priced.currency,
                "hints": priced.hints,
                "can_checkout": view.can_checkout,
                "coupon_code": priced.options.get("coupon") or "",
                "points": int(priced.options.get("points") or 0),
                "rejections": [
                    {"option": r.option, "code": r.code, "message": r.message}
                    for r in priced.rejections
                ],
                "explanation": [
                    {"amount": None, "reason": "", "message": "", **row}
                    for row in priced.explanation
                ],
                "free_shipping": priced.free_shipping,
            }
        ).data
