"""Refunds: whole and partial amounts, stock, status, over-refunds and bad lines."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders import refunds, signals
from orders.exceptions import OrderNotFound, TransitionNotAllowed
from orders.models import Order, OrderItem, Payment, Refund, RefundLine
from orders.payments import ChargeResult, SimulatedProvider
from tests.factories import ProductFactory, UserFactory, order_with_items

pytestmark = pytest.mark.django_db

S = Order.Status


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def refunded_signals():
    log = []

    def handler(sender, **kwargs):
        log.append(kwargs)

    signals.order_refunded.connect(handler, weak=False)
    yield log
    signals.order_refunded.disconnect(handler)


def _order(status=S.DELIVERED, lines=((Decimal("30.00"), 3, Decimal("0")),), shipping="10.00"):
    """An order whose lines are (unit price, quantity, discount), totals consistent."""
    products = [ProductFactory(price=price, stock=5) for price, _, _ in lines]
    order = order_with_items(
        products=products,
        quantities=[q for _, q, _ in lines],
        status=status,
        shipping_fee=Decimal(shipping),
    )
    discount_total = Decimal("0")
    for item, (_, _, discount) in zip(order.items.order_by("pk"), lines, strict=True):
        item.discount = discount
        item.save(update_fields=["discount"])
        discount_total += discount
    order.discount_total = discount_total
    order.total = order.subtotal - discount_total + order.shipping_fee
    order.save(update_fields=["discount_total", "total"])
    Payment.objects.create(
        order=order, provider="simulated", amount=order.total, status="succeeded", reference="R1"
    )
    return order, products


def _items(order):
    return list(OrderItem.objects.filter(order=order).order_by("pk"))


# --- amounts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paid,quantity,steps,expected",
    [
        ("100.00", 3, [1, 1, 1], ["33.33", "33.34", "33.33"]),
        ("100.00", 3, [2, 1], ["66.67", "33.33"]),
        ("79.99", 3, [1, 1, 1], ["26.66", "26.67", "26.66"]),
        ("0.05", 8, [1] * 8, ["0.01", "0.00", "0.01", "0.01", "0.00", "0.01", "0.00", "0.01"]),
        ("10.00", 1, [1], ["10.00"]),
        ("0.00", 2, [1, 1], ["0.00", "0.00"]),
    ],
)
def test_line_amounts_are_pro_rata_half_up_and_sum_to_the_paid_amount(
    paid, quantity, steps, expected
):
    paid = Decimal(paid)
    refunded_quantity, refunded_amount, amounts = 0, Decimal("0.00"), []
    for units in steps:
        amount = refunds.line_refund_amount(
            paid=paid,
            quantity=quantity,
            refunded_quantity=refunded_quantity,
            refunded_amount=refunded_amount,
            units=units,
        )
        amounts.append(str(amount))
        refunded_quantity += units
        refunded_amount += amount

    assert amounts == expected
    assert refunded_amount == paid


def test_half_cent_rounds_up():
    amount = refunds.line_refund_amount(
        paid=Decimal("0.05"), quantity=2, refunded_quantity=0, refunded_amount=Decimal("0"), units=1
    )

    assert amount == Decimal("0.03")


# --- whole order ---------------------------------------------------------------------------


def test_whole_refund_returns_everything_and_moves_to_refunded(
    staff, refunded_signals, django_capture_on_commit_callbacks
):
    order, _ = _order(
        lines=((Decimal("30.00"), 3, Decimal("5.00")), (Decimal("12.50"), 2, Decimal("0")))
    )

    with django_capture_on_commit_callbacks() as callbacks:
        refund = refunds.order_refund(order_id=order.pk, by=staff, reason="damaged")
    assert refunded_signals == []
    for callback in callbacks:
        callback()

    order.refresh_from_db()
    assert order.status == S.REFUNDED and order.refunded_at is not None
    assert refund.amount == order.total == order.refunded_total == Decimal("120.00")
    assert (refund.reason, refund.created_by) == ("damaged", staff)
    assert refund.provider_reference.startswith("SIMR-")
    assert [(i.refunded_quantity, i.refunded_amount) for i in _items(order)] == [
        (3, Decimal("85.00")),
        (2, Decimal("25.00")),
    ]
    assert sorted(RefundLine.objects.filter(refund=refund).values_list("amount", flat=True)) == [
        Decimal("25.00"),
        Decimal("85.00"),
    ]
    assert refunded_signals == [
        {
            "order_id": order.pk,
            "user_id": order.user_id,
            "refund_id": refund.pk,
            "amount": Decimal("120.00"),
            "signal": signals.order_refunded,
        }
    ]


def test_whole_refund_of_a_delivered_order_does_not_restock():
    order, (product,) = _order(status=S.DELIVERED)

    refunds.order_refund(order_id=order.pk)

    product.refresh_from_db()
    assert product.stock == 5


def test_whole_refund_of_a_paid_order_restocks():
    order, (product,) = _order(status=S.PAID)

    refunds.order_refund(order_id=order.pk)

    product.refresh_from_db()
    assert product.stock == 8


def test_whole_refund_after_a_partial_one_returns_the_rest_with_shipping():
    order, _ = _order(lines=((Decimal("30.00"), 3, Decimal("0")),), shipping="10.00")
    (item,) = _items(order)
    first = refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)])

    rest = refunds.order_refund(order_id=order.pk)

    order.refresh_from_db()
    assert (first.amount, rest.amount) == (Decimal("30.00"), Decimal("70.00"))
    assert first.amount + rest.amount == order.total == order.refunded_total
    assert order.status == S.REFUNDED


# --- partial lines --------------------------------------------------------------------------


def test_partial_refund_keeps_the_status_and_books_the_line():
    order, _ = _order(
        lines=((Decimal("30.00"), 3, Decimal("0")), (Decimal("20.00"), 1, Decimal("0")))
    )
    first, second = _items(order)

    refund = refunds.order_refund(order_id=order.pk, lines=[(first.pk, 1)], reason="one broken")

    order.refresh_from_db()
    first.refresh_from_db()
    assert order.status == S.DELIVERED
    assert refund.amount == order.refunded_total == Decimal("30.00")
    assert (first.refunded_quantity, first.refunded_amount) == (1, Decimal("30.00"))
    assert list(refund.lines.values_list("item_id", "quantity", "amount")) == [
        (first.pk, 1, Decimal("30.00"))
    ]


def test_unit_by_unit_refunds_sum_exactly_to_the_paid_amount_and_keep_shipping():
    order, _ = _order(lines=((Decimal("33.33"), 3, Decimal("20.00")),), shipping="10.00")
    (item,) = _items(order)

    amounts = [
        refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)]).amount for _ in range(3)
    ]

    order.refresh_from_db()
    item.refresh_from_db()
    assert amounts == [Decimal("26.66"), Decimal("26.67"), Decimal("26.66")]
    assert sum(amounts) == item.paid_amount == item.refunded_amount == Decimal("79.99")
    assert order.refunded_total == order.total - order.shipping_fee
    assert order.status == S.REFUNDED  # every unit refunded; shipping stays with the shop


def test_partial_refund_of_a_paid_order_restocks_those_units_only():
    order, (product,) = _order(status=S.PAID)
    (item,) = _items(order)

    refunds.order_refund(order_id=order.pk, lines=[(item.pk, 2)])

    product.refresh_from_db()
    assert product.stock == 7


def test_partial_refund_of_a_shipped_order_does_not_restock():
    order, (product,) = _order(status=S.SHIPPED)
    (item,) = _items(order)

    refunds.order_refund(order_id=order.pk, lines=[(item.pk, 2)])

    product.refresh_from_db()
    assert product.stock == 5


def test_repeated_item_ids_add_up():
    order, _ = _order()
    (item,) = _items(order)

    refund = refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1), (item.pk, 1)])

    assert refund.amount == Decimal("60.00")
    assert list(refund.lines.values_list("quantity", flat=True)) == [2]


def test_cancel_after_partial_refund_restocks_and_refunds_only_the_rest():
    from orders import services

    order, (product,) = _order(status=S.PAID)
    (item,) = _items(order)
    refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)])

    services.order_cancel(order_id=order.pk, by=order.user)

    order.refresh_from_db()
    product.refresh_from_db()
    assert product.stock == 8  # 1 unit at the refund, 2 at the cancel
    assert order.refunded_total == order.total
    assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("70.00"),
    ]


# --- refused --------------------------------------------------------------------------------


def test_over_refund_of_a_line_is_refused_and_writes_nothing():
    order, _ = _order()
    (item,) = _items(order)
    refunds.order_refund(order_id=order.pk, lines=[(item.pk, 2)])

    with pytest.raises(refunds.RefundExceedsRemaining) as caught:
        refunds.order_refund(order_id=order.pk, lines=[(item.pk, 2)])

    order.refresh_from_db()
    assert caught.value.status_code == 409
    assert caught.value.detail == {"item": item.pk, "refundable_quantity": 1}
    assert order.refunded_total == Decimal("60.00")
    assert Refund.objects.filter(order=order).count() == 1


def test_refunding_a_refunded_order_is_refused():
    order, _ = _order()
    refunds.order_refund(order_id=order.pk)

    with pytest.raises(TransitionNotAllowed):
        refunds.order_refund(order_id=order.pk)

    assert Refund.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.CANCELLED])
def test_refund_refused_before_payment_or_after_cancel(status):
    order, _ = _order(status=status)

    with pytest.raises(TransitionNotAllowed):
        refunds.order_refund(order_id=order.pk)

    assert not Refund.objects.exists()


def test_refund_of_an_item_of_another_order_is_invalid():
    order, _ = _order()
    other, _ = _order()
    (foreign,) = _items(other)

    with pytest.raises(refunds.RefundInvalid) as caught:
        refunds.order_refund(order_id=order.pk, lines=[(foreign.pk, 1)])

    assert caught.value.detail == {"item": foreign.pk}
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    "lines",
    [[], [(1,)], [("1", 1)], [(1, "1")], [(1, 0)], [(1, -2)], [(1, True)], "11", [None], {1: 1}],
)
def test_malformed_lines_are_invalid(lines):
    order, _ = _order()

    with pytest.raises(refunds.RefundInvalid):
        refunds.order_refund(order_id=order.pk, lines=lines)

    assert not Refund.objects.exists()


def test_a_zero_amount_refund_is_refused():
    order, _ = _order(lines=((Decimal("10.00"), 2, Decimal("20.00")),), shipping="0.00")
    (item,) = _items(order)

    with pytest.raises(refunds.NothingToRefund):
        refunds.order_refund(order_id=order.pk, lines=[(item.pk, 1)])


def test_provider_refusal_writes_nothing_and_sends_nothing(
    monkeypatch, refunded_signals, django_capture_on_commit_callbacks
):
    order, _ = _order()
    monkeypatch.setattr(
        SimulatedProvider, "refund", lambda self, **kw: ChargeResult(ok=False, message="no")
    )

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(refunds.RefundFailed):
        refunds.order_refund(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == S.DELIVERED and order.refunded_total == 0
    assert not Refund.objects.exists()
    assert refunded_signals == []


def test_unknown_order_is_not_found():
    with pytest.raises(OrderNotFound):
        refunds.order_refund(order_id=123456)


def test_database_refuses_refunded_quantity_above_quantity():
    order, _ = _order()
    (item,) = _items(order)

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderItem.objects.filter(pk=item.pk).update(refunded_quantity=item.quantity + 1)


def test_database_refuses_refunded_total_above_total():
    order, _ = _order()

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_total=order.total + Decimal("0.01"))
