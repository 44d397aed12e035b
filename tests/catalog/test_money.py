from decimal import Decimal

import pytest
from django.template import Context, Template

from catalog.money import format_money


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1299"), "¥1,299.00"),
        (Decimal("0.005"), "¥0.01"),  # half up, once, at display
        (Decimal("-12.5"), "-¥12.50"),
        ("7.10", "¥7.10"),
        (None, ""),
    ],
)
def test_format_money_in_the_shop_currency(amount, expected):
    assert format_money(amount) == expected


def test_format_money_in_another_currency():
    assert format_money(Decimal("5"), "USD") == "$5.00"


def test_money_filter_renders_with_the_shop_currency(settings):
    settings.SHOP_CURRENCY = "EUR"

    html = Template("{% load shop %}{{ price|money }}").render(Context({"price": Decimal("3.5")}))

    assert html == "€3.50"
