"""Pricing seam: rounding, allocation, shipping rule, adjuster pipeline (no database)."""

from decimal import Decimal

import pytest
from django.test import override_settings

from catalog.models import Product
from orders.pricing import (
    Discount,
    PricingLine,
    adjusters,
    allocate,
    money_round,
    price_cart,
)

D = Decimal


def _product(pk: int, price: str, name: str | None = None) -> Product:
    return Product(pk=pk, sku=f"SKU-{pk}", name=name or f"Product {pk}", price=D(price), stock=50)


def _lines(*specs) -> list[PricingLine]:
    """_lines(("19.99", 3), ("5.00", 1)) -> products 1, 2, ... with those prices and quantities."""
    return [
        PricingLine(product=_product(i + 1, price), quantity=quantity)
        for i, (price, quantity) in enumerate(specs)
    ]


def _percent_off(percent: str):
    def adjuster(ctx):
        amount = money_round(ctx.discounted_subtotal * D(percent) / 100)
        return [ctx.discount(source="promotion", code="PCT", label="Sale", amount=amount)]

    return adjuster


def ten_percent_off(ctx):
    """Importable by dotted path for the settings-driven pipeline test."""
    return _percent_off("10")(ctx)


# --- rounding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2.675", "2.68"),
        ("0.005", "0.01"),
        ("0.0049", "0.00"),
        ("1.994", "1.99"),
        ("-0.005", "-0.01"),
    ],
)
def test_money_round_is_half_up_to_the_cent(raw, expected):
    assert money_round(D(raw)) == D(expected)


def test_money_round_refuses_floats():
    with pytest.raises(TypeError):
        money_round(0.1)


# --- allocation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount,weights",
    [
        ("10.00", ["33.33", "33.33", "33.34"]),
        ("0.01", ["1.00", "1.00", "1.00"]),
        ("7.77", ["0.01", "12.50", "99.99", "3.33"]),
        ("100.00", ["100.00"]),
        ("0.05", ["0.01", "0.01", "0.01", "0.01", "0.01"]),
        ("59.97", ["19.99", "19.99", "19.99"]),
    ],
)
def test_allocation_adds_up_exactly_and_stays_within_each_line(amount, weights):
    shares = allocate(D(amount), [D(w) for w in weights])

    assert sum(shares) == D(amount)
    assert all(D("0") <= share <= D(w) for share, w in zip(shares, weights, strict=True))
    assert all(share == money_round(share) for share in shares)


def test_allocation_is_proportional():
    assert allocate(D("10.00"), [D("100.00"), D("300.00")]) == [D("2.50"), D("7.50")]


def test_allocation_puts_the_leftover_cent_on_the_largest_line():
    shares = allocate(D("10.00"), [D("30.00"), D("40.00"), D("30.00")])

    assert shares == [D("3.00"), D("4.00"), D("3.00")]
    shares = allocate(D("0.10"), [D("1.00"), D("2.00"), D("1.00")])
    assert shares == [D("0.02"), D("0.06"), D("0.02")]


def test_allocation_spills_over_when_the_largest_line_is_full():
    # Rounded-down shares leave 0.03 over; the largest line (0.03) can take only 0.02 more.
    shares = allocate(D("0.04"), [D("0.03")] + [D("0.01")] * 10)

    assert sum(shares) == D("0.04")
    assert shares[0] == D("0.03")


def test_allocating_zero_gives_zero_shares():
    assert allocate(D("0"), [D("5.00"), D("6.00")]) == [D("0.00"), D("0.00")]


@pytest.mark.parametrize(
    "amount,weights",
    [("-1.00", ["5.00"]), ("5.01", ["5.00"]), ("0.001", ["5.00"]), ("1.00", []), ("1.00", ["-1"])],
)
def test_allocation_refuses_impossible_amounts(amount, weights):
    with pytest.raises(ValueError):
        allocate(D(amount), [D(w) for w in weights])


# --- lines, shipping, total ----------------------------------------------------------------------


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00", SHOP_CURRENCY="CNY")
def test_lines_and_subtotal_come_from_product_prices():
    priced = price_cart(lines=_lines(("19.99", 3), ("5.00", 1)), pipeline=[])

    assert [line.line_total for line in priced.lines] == [D("59.97"), D("5.00")]
    assert priced.lines[0].sku == "SKU-1" and priced.lines[0].unit_price == D("19.99")
    assert priced.subtotal == D("64.97")
    assert priced.currency == "CNY"
    assert priced.item_count == 4


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_below_the_threshold_shipping_is_charged_with_a_hint():
    priced = price_cart(lines=_lines(("98.99", 1)), pipeline=[])

    assert priced.shipping_fee == D("10.00")
    assert priced.total == D("108.99")
    assert [(h.code, h.amount) for h in priced.hints] == [("free_shipping", D("0.01"))]
    assert "0.01" in priced.hints[0].message


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_at_the_threshold_shipping_is_free():
    priced = price_cart(lines=_lines(("99.00", 1)), pipeline=[])

    assert priced.shipping_fee == D("0.00")
    assert priced.total == D("99.00")
    assert priced.hints == []


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_an_empty_cart_costs_nothing():
    priced = price_cart(lines=[], pipeline=[])

    assert (priced.subtotal, priced.shipping_fee, priced.total) == (D("0"), D("0"), D("0"))
    assert priced.is_empty and priced.hints == []


@override_settings(SHIPPING_FEE="12.50", FREE_SHIPPING_THRESHOLD="200")
def test_shipping_settings_are_read_as_decimal_strings():
    priced = price_cart(lines=_lines(("150.00", 1)), pipeline=[])

    assert priced.shipping_fee == D("12.50")
    assert priced.hints[0].amount == D("50.00")


# --- adjusters -----------------------------------------------------------------------------------


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_an_adjuster_discount_is_allocated_to_the_lines():
    priced = price_cart(lines=_lines(("60.00", 1), ("40.00", 1)), pipeline=[_percent_off("10")])

    assert priced.discount_total == D("10.00")
    assert [line.discount for line in priced.lines] == [D("6.00"), D("4.00")]
    assert [line.payable for line in priced.lines] == [D("54.00"), D("36.00")]
    assert priced.discounts[0].allocations == {1: D("6.00"), 2: D("4.00")}


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_free_shipping_is_judged_on_the_discounted_subtotal():
    priced = price_cart(lines=_lines(("100.00", 1)), pipeline=[_percent_off("10")])

    assert priced.subtotal == D("100.00")
    assert priced.shipping_fee == D("10.00")
    assert priced.total == D("100.00")  # 100 - 10 + 10


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_later_adjusters_see_what_earlier_ones_left():
    priced = price_cart(
        lines=_lines(("100.00", 1), ("100.00", 1)),
        pipeline=[_percent_off("50"), _percent_off("50")],
    )

    assert [d.amount for d in priced.discounts] == [D("100.00"), D("50.00")]
    assert priced.total == D("50.00") + D("10.00")


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="0.00")
def test_a_discount_larger_than_the_cart_leaves_a_zero_total_not_a_negative_one():
    def huge(ctx):
        return [ctx.discount(source="coupon", code="ALL", label="All", amount=D("1000.00"))]

    priced = price_cart(lines=_lines(("50.00", 1)), pipeline=[huge])

    assert priced.discount_total == D("50.00")
    assert priced.total == D("0.00")
    assert priced.lines[0].payable == D("0.00")


def test_an_adjuster_whose_allocations_do_not_add_up_is_refused():
    def broken(ctx):
        return [
            Discount(
                source="x", code="BAD", label="Bad", amount=D("5.00"), allocations={1: D("4.00")}
            )
        ]

    with pytest.raises(ValueError):
        price_cart(lines=_lines(("50.00", 1)), pipeline=[broken])


def test_an_adjuster_cannot_take_a_line_below_zero():
    def greedy(ctx):
        return [
            Discount(
                source="x", code="BAD", label="Bad", amount=D("60.00"), allocations={1: D("60.00")}
            )
        ]

    with pytest.raises(ValueError):
        price_cart(lines=_lines(("50.00", 1)), pipeline=[greedy])


@override_settings(
    PRICING_ADJUSTERS=["tests.orders.test_pricing.ten_percent_off"],
    SHIPPING_FEE="10.00",
    FREE_SHIPPING_THRESHOLD="99.00",
)
def test_configured_adjusters_run_without_touching_callers():
    priced = price_cart(lines=_lines(("200.00", 1)))

    assert ten_percent_off in adjusters()
    assert priced.discount_total == D("20.00")
    assert priced.total == D("180.00")


def test_the_default_pipeline_is_promotions_tier_coupons_then_points():
    names = [a.__name__ for a in adjusters()]
    assert names == ["promotions_adjuster", "tier_privileges", "coupon_adjuster", "points_adjuster"]


@override_settings(PRICING_ADJUSTERS=[])
def test_no_adjusters_are_built_in():
    assert adjusters() == ()


@pytest.mark.django_db
def test_without_promotions_coupons_or_points_nothing_is_discounted():
    assert price_cart(lines=_lines(("10.00", 2))).discount_total == D("0")


# --- free-shipping offers from adjusters ---------------------------------------------------------


def _free_shipping_from(threshold: str, label: str = "Gold members"):
    def adjuster(ctx):
        ctx.offer_free_shipping(threshold=threshold, source="tier", code="GOLD", label=label)
        return []

    return adjuster


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_a_lower_offered_threshold_makes_shipping_free_and_is_named():
    priced = price_cart(lines=_lines(("49.00", 1)), pipeline=[_free_shipping_from("49.00")])

    assert priced.shipping_fee == D("0.00")
    assert priced.total == D("49.00")
    assert (priced.free_shipping.source, priced.free_shipping.code) == ("tier", "GOLD")
    assert priced.hints == []


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_below_every_threshold_the_hint_names_the_nearest_offer():
    priced = price_cart(lines=_lines(("48.99", 1)), pipeline=[_free_shipping_from("49.00")])

    assert priced.shipping_fee == D("10.00")
    assert priced.free_shipping is None
    assert [(h.code, h.amount) for h in priced.hints] == [("free_shipping", D("0.01"))]
    assert "Gold members" in priced.hints[0].message


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_an_offer_above_the_shop_threshold_changes_nothing():
    priced = price_cart(lines=_lines(("99.00", 1)), pipeline=[_free_shipping_from("150.00")])

    assert priced.shipping_fee == D("0.00")
    assert priced.free_shipping.source == "shop"


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_a_zero_threshold_offer_ships_free_whatever_the_amount():
    priced = price_cart(lines=_lines(("0.50", 1)), pipeline=[_free_shipping_from("0")])

    assert priced.shipping_fee == D("0.00") and priced.total == D("0.50")


def test_a_negative_threshold_offer_is_refused():
    with pytest.raises(ValueError):
        price_cart(lines=_lines(("10.00", 1)), pipeline=[_free_shipping_from("-1")])


def _scoped_free_shipping(threshold: str, product_ids):
    def adjuster(ctx):
        ctx.offer_free_shipping(
            threshold=threshold,
            source="promotion",
            code="TEA",
            label="Tea",
            product_ids=product_ids,
        )
        return []

    return adjuster


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
@pytest.mark.parametrize("price,free", [("58.99", False), ("59.00", True)])
def test_a_scoped_offer_is_judged_on_its_lines_only(price, free):
    # product 1 in scope, product 2 not: the whole cart is over 59 either way
    lines = _lines((price, 1), ("40.00", 1))
    priced = price_cart(lines=lines, pipeline=[_scoped_free_shipping("59.00", [1])])

    assert (priced.shipping_fee == 0) is free
    if not free:
        assert [(h.code, h.amount) for h in priced.hints] == [("free_shipping", D("0.01"))]


@override_settings(SHIPPING_FEE="10.00", FREE_SHIPPING_THRESHOLD="99.00")
def test_the_shops_own_rule_is_credited_when_reached():
    priced = price_cart(lines=_lines(("100.00", 1)), pipeline=[_free_shipping_from("10.00")])

    assert priced.free_shipping.source == "shop"
