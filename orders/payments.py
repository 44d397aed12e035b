"""Payment providers: where a real gateway (Alipay, WeChat Pay, Stripe...) plugs in.

A provider charges and refunds an amount for an order and answers with a
``ChargeResult``; it never touches the database. ``orders`` services record
the attempt as a ``Payment`` row and move the order. The built-in
``SimulatedProvider`` lets the whole lifecycle run end to end: a charge
succeeds unless the caller asks it to fail (``simulate="fail"``), so tests and
the demo can exercise both outcomes.

The provider in use is ``settings.PAYMENT_PROVIDER`` (a dotted class path).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ChargeResult:
    ok: bool
    reference: str = ""
    message: str = ""


class PaymentProvider:
    """Interface of a payment gateway."""

    name = "base"

    def charge(
        self, *, order_number: str, amount: Decimal, currency: str, **options
    ) -> ChargeResult:
        raise NotImplementedError

    def refund(
        self, *, order_number: str, payment_reference: str, amount: Decimal, currency: str
    ) -> ChargeResult:
        raise NotImplementedError


class SimulatedProvider(PaymentProvider):
    """Pays or declines on request; refunds always succeed."""

    name = "simulated"

    def charge(
        self, *, order_number: str, amount: Decimal, currency: str, **options
    ) -> ChargeResult:
        if options.get("simulate") == "fail":
            return ChargeResult(ok=False, message="Declined by the simulated provider.")
        return ChargeResult(ok=True, reference=f"SIM-{secrets.token_hex(8)}")

    def refund(
        self, *, order_number: str, payment_reference: str, amount: Decimal, currency: str
    ) -> ChargeResult:
        return ChargeResult(ok=True, reference=f"SIMR-{secrets.token_hex(8)}")


def payment_provider() -> PaymentProvider:
    return import_string(settings.PAYMENT_PROVIDER)()
