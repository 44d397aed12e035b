"""``seed_demo`` writes the orders, timelines, payments, refunds and reviews its history implies."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from browsing.demo.generator import DemoConfig, generate_shop
from browsing.models import Event
from orders.models import (
    Order,
    OrderItem,
    OrderStatusChange,
    Payment,
    Refund,
    RefundLine,
    Review,
)
from orders.selectors import NOTE_AUTO_COMPLETED, NOTE_CANCELLED, NOTE_RECEIPT_CONFIRMED

TINY = {"seed": 7, "members": 30, "products": 80, "months": 3, "end": date(2026, 6, 1)}
S = Order.Status


def seed(**overrides) -> str:
    opts = {**TINY, **overrides}
    out = StringIO()
    call_command(
        "seed_demo",
        "--seed", str(opts["seed"]),
        "--members", str(opts["members"]),
        "--products", str(opts["products"]),
        "--months", str(opts["months"]),
        "--end", opts["end"].isoformat(),
        stdout=out,
    )  # fmt: skip
    return out.getvalue()


def order_counts() -> dict[str, int]:
    return {
        "orders": Order.objects.count(),
        "items": OrderItem.objects.count(),
        "changes": OrderStatusChange.objects.count(),
        "payments": Payment.objects.count(),
        "refunds": Refund.objects.count(),
        "refund_lines": RefundLine.objects.count(),
        "reviews": Review.objects.count(),
        "events": Event.objects.count(),
    }


@pytest.fixture(scope="module")
def tiny_shop():
    return generate_shop(DemoConfig(**TINY))


@pytest.mark.django_db
def test_every_generated_order_is_written_with_its_lines_and_status(tiny_shop):
    # When the demo shop is seeded
    seed()

    # Then there is one seed order per generated order, same status, member and lines
    assert tiny_shop.orders, "the tiny shop has orders"
    orders = {o.external_id: o for o in Order.objects.select_related("user")}
    assert set(orders) == {o.order_id for o in tiny_shop.orders}
    for demo in tiny_shop.orders:
        order = orders[demo.order_id]
        assert order.number == demo.order_id
        assert order.source == Order.Source.SEED
        assert order.status == demo.status
        assert order.user.external_id == demo.member
        assert order.placed_at == demo.placed_at
    lines = Counter(OrderItem.objects.values_list("order__number", "sku", "quantity", "unit_price"))
    expected = Counter(
        (o.order_id, line.sku, line.quantity, line.unit_price)
        for o in tiny_shop.orders
        for line in o.lines
    )
    assert lines == expected


@pytest.mark.django_db
def test_order_totals_follow_the_shipping_rule():
    seed()

    fee = Decimal(settings.SHIPPING_FEE)
    threshold = Decimal(settings.FREE_SHIPPING_THRESHOLD)
    for order in Order.objects.prefetch_related("items"):
        subtotal = sum(item.line_total for item in order.items.all())
        assert order.subtotal == subtotal
        assert all(item.line_total == item.unit_price * item.quantity for item in order.items.all())
        assert order.shipping_fee == (Decimal("0.00") if subtotal >= threshold else fee)
        assert order.discount_total == 0
        assert order.total == subtotal + order.shipping_fee
        assert order.currency == settings.SHOP_CURRENCY
        assert order.recipient_name and order.city and order.line1


@pytest.mark.django_db
def test_timeline_rows_and_time_fields_match_the_generated_history(tiny_shop):
    seed()

    demo = {o.order_id: o for o in tiny_shop.orders}
    assert OrderStatusChange.objects.count() == sum(len(o.status_changes) for o in tiny_shop.orders)
    for order in Order.objects.prefetch_related("status_changes"):
        steps = [(c.from_status, c.to_status, c.created_at) for c in order.status_changes.all()]
        expected, previous = [], ""
        for status, at in demo[order.number].status_changes:
            expected.append((previous, status, at))
            previous = status
        assert steps == expected
        times = {to: at for _from, to, at in steps}
        assert order.paid_at == times.get(S.PAID)
        assert order.shipped_at == times.get(S.SHIPPED)
        assert order.delivered_at == times.get(S.DELIVERED)
        assert order.completed_at == times.get(S.COMPLETED)
        assert order.cancelled_at == times.get(S.CANCELLED)
        assert order.refunded_at == times.get(S.REFUNDED)
        assert bool(order.tracking_number) == (order.shipped_at is not None)
        assert order.payment_due_at == order.placed_at + timedelta(
            minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES
        )


@pytest.mark.django_db
def test_paid_orders_have_one_simulated_payment_and_refunded_ones_a_whole_refund():
    seed()

    for order in Order.objects.prefetch_related("payments", "refunds__lines", "items"):
        payments = list(order.payments.all())
        if order.paid_at is None:
            assert payments == []
        else:
            assert [(p.provider, p.status, p.amount) for p in payments] == [
                ("simulated", Payment.Status.SUCCEEDED, order.total)
            ]
            assert payments[0].created_at == order.paid_at
        refunded = order.status == S.REFUNDED or (
            order.status == S.CANCELLED and order.paid_at is not None
        )
        refunds = list(order.refunds.all())
        if refunded:
            assert order.refunded_total == order.total
            assert [r.amount for r in refunds] == [order.total]
            assert {line.item_id for line in refunds[0].lines.all()} == {
                i.pk for i in order.items.all()
            }
            assert all(i.refunded_quantity == i.quantity for i in order.items.all())
        else:
            assert order.refunded_total == 0 and refunds == []
    assert Order.objects.filter(status=S.REFUNDED).exists()


@pytest.mark.django_db
def test_purchase_events_join_order_lines_by_number_and_product():
    seed()

    purchases = Counter(
        Event.objects.filter(event_type=Event.Type.PURCHASE).values_list(
            "ref", "product__sku", "quantity", "value", "user_id"
        )
    )
    lines = Counter(
        OrderItem.objects.values_list(
            "order__number", "sku", "quantity", "unit_price", "order__user_id"
        )
    )
    assert purchases and purchases == lines
    event_times = set(
        Event.objects.filter(event_type=Event.Type.PURCHASE).values_list("ref", "occurred_at")
    )
    assert event_times == set(Order.objects.values_list("number", "placed_at"))


@pytest.mark.django_db
def test_reviews_match_rating_events_on_delivered_or_completed_orders():
    seed()

    ratings = Counter(
        Event.objects.filter(event_type=Event.Type.RATING).values_list(
            "ref", "product_id", "value", "occurred_at", "user_id"
        )
    )
    reviews = Counter(
        (r.item.order.number, r.product_id, Decimal(r.rating), r.created_at, r.user_id)
        for r in Review.objects.select_related("item__order")
    )
    assert reviews and reviews == ratings
    assert not Review.objects.exclude(item__order__status__in=[S.DELIVERED, S.COMPLETED]).exists()
    assert not Review.objects.filter(sentiment=None).exists()  # scored after seeding
    assert not Review.objects.filter(title="").exists()
    assert all(r.product_id == r.item.product_id for r in Review.objects.select_related("item"))


@pytest.mark.django_db
def test_second_run_adds_no_orders():
    seed()
    before = order_counts()

    output = seed()

    assert order_counts() == before
    assert "nothing to add" in output


@pytest.mark.django_db
def test_members_seeded_before_orders_existed_get_only_their_orders():
    # Given a shop seeded before orders were written: events, but no orders
    seed()
    before = order_counts()
    Order.objects.all().delete()

    # When seed_demo runs again
    output = seed()

    # Then the orders are back and nothing else was added
    assert order_counts() == before
    assert "missing some history" in output


@pytest.mark.django_db
def test_top_up_writes_orders_only_for_the_new_members(tiny_shop):
    seed(members=20)
    first = set(Order.objects.values_list("number", flat=True))

    seed()

    assert set(Order.objects.values_list("number", flat=True)) == {
        o.order_id for o in tiny_shop.orders
    }
    assert first <= {o.order_id for o in tiny_shop.orders if int(o.member[1:]) <= 20}


@pytest.mark.django_db
def test_timeline_says_who_made_each_step_with_the_services_notes():
    seed()

    changes = OrderStatusChange.objects.select_related("order")
    for change in changes:
        by_member = change.changed_by_id == change.order.user_id
        if change.to_status in (S.PENDING_PAYMENT, S.PAID):
            assert by_member and change.note == ""
        elif change.to_status == S.CANCELLED:
            assert by_member and change.note == NOTE_CANCELLED
        elif change.to_status == S.COMPLETED:
            assert (by_member, change.note) in {
                (True, NOTE_RECEIPT_CONFIRMED),
                (False, NOTE_AUTO_COMPLETED),
            }
        else:
            assert change.changed_by_id is None
    completed = Counter(changes.filter(to_status=S.COMPLETED).values_list("note", flat=True))
    assert completed[NOTE_RECEIPT_CONFIRMED] and completed[NOTE_AUTO_COMPLETED]
