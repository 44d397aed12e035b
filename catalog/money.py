"""Money formatting in the shop's one configured currency.

Money is always Decimal; this module only renders it. Rounding to cents
happens here with ROUND_HALF_UP, the single display boundary.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.formats import number_format

CENT = Decimal("0.01")
CURRENCY_SYMBOLS = {
    "CNY": "¥",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
}


def currency_symbol(code: str | None = None) -> str:
    code = code or settings.SHOP_CURRENCY
    return CURRENCY_SYMBOLS.get(code, code + " ")


def quantize(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | str | int | None, currency: str | None = None) -> str:
    if amount is None or amount == "":
        return ""
    value = quantize(Decimal(str(amount)))
    sign = "-" if value < 0 else ""
    digits = number_format(abs(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{sign}{currency_symbol(currency)}{digits}"
