"""Property-based tests (hypothesis): pricing invariants and the points ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Product
from orders.pricing import PricingLine, price_cart
from promotions import rules, services
from promotions.exceptions import PointsInsufficient
from promotions.models import PointsEntry
from promotions.selectors import points_balance, points_ledger_sum
from tests.factories import MemberFactory

D = Decimal

money = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2)
percent = st.decimals(min_value=D("0.01"), max_value=D("100"), places=2)


@st.composite
def carts(draw):
    n = draw(st.integers(min_value=1, max_value=5))
    return [
        (
            draw(money),
            draw(st.integers(min_value=1, max_value=5)),
            draw(st.integers(min_value=1, max_value=3)),
        )
        for _i in range(n)
    ]


@st.composite
def rule_sets(draw):
    found = []
    for index in range(draw(st.integers(min_value=0, max_value=5))):
        kind = draw(st.sampled_from(["threshold", "percent", "fixed", "bngm"]))
        if kind == "threshold":
            spend = draw(money)
            off = draw(st.decimals(min_value=D("0.01"), max_value=spend, places=2))
            benefit = rules.ThresholdBenefit(
                steps=((spend, off),), repeat=draw(st.booleans()), cap=draw(st.none() | money)
            )
        elif kind == "percent":
            benefit = rules.PercentOff(percent=draw(percent), cap=draw(st.none() | money))
        elif kind == "fixed":
            benefit = rules.FixedOff(value=draw(money))
        else:
            benefit = rules.BuyNGetM(buy=draw(st.integers(1, 3)), free=draw(st.integers(1, 2)))
        scope_categories = draw(st.sets(st.integers(1, 3), max_size=2))
        found.append(
            rules.Rule(
                id=index + 1,
                code=f"r{index}",
                label=f"r{index}",
                benefit=benefit,
                scope=rules.Scope(category_ids=frozenset(scope_categories)),
                condition=rules.MinSpend(draw(st.none() | money) or D("0")),
                priority=draw(st.integers(0, 5)),
                exclusive=draw(st.booleans()),
                budget_left=draw(st.none() | money),
            )
        )
    return found


def _pricing_lines(cart):
    return [
        PricingLine(
            product=Product(
                pk=i + 1, sku=f"S{i}", name=f"P{i}", price=price, stock=99, category_id=category
            ),
            quantity=quantity,
        )
        for i, (price, quantity, category) in enumerate(cart)
    ]


def _engine_adjuster(found):
    def adjuster(ctx):
        lines = [
            rules.Line(x.product_id, x.category_id, x.brand_id, x.unit_price, x.quantity)
            for x in ctx.lines
        ]
        payables = {x.product_id: ctx.payable(x.product_id) for x in ctx.lines}
        choice = rules.choose(found, lines, payables)
        return [
            ctx.discount(source="promotion", code=a.rule.code, label="x", allocations=a.allocations)
            for a in choice.applied
        ]

    return adjuster


def _fixed(amount):
    def adjuster(ctx):
        return [ctx.discount(source="coupon", code="c", label="c", amount=amount)]

    return adjuster


@settings(max_examples=150, deadline=None)
@given(cart=carts(), found=rule_sets(), coupon=st.none() | money, points=st.none() | money)
def test_discounts_never_exceed_the_subtotal_and_totals_are_never_negative(
    cart, found, coupon, points
):
    pipeline = [_engine_adjuster(found)]
    if coupon is not None:
        pipeline.append(_fixed(coupon))
    if points is not None:
        pipeline.append(_fixed(points))

    priced = price_cart(lines=_pricing_lines(cart), pipeline=pipeline)

    assert priced.total >= 0
    assert 0 <= priced.discount_total <= priced.subtotal
    assert priced.discount_total == sum((d.amount for d in priced.discounts), D("0"))
    assert priced.discount_total == sum((line.discount for line in priced.lines), D("0"))
    for line in priced.lines:
        assert 0 <= line.discount <= line.line_total
        assert line.payable == line.line_total - line.discount
    for discount in priced.discounts:
        assert discount.amount == sum(discount.allocations.values(), D("0"))
        assert discount.amount == discount.amount.quantize(D("0.01"))


@settings(max_examples=150, deadline=None)
@given(cart=carts(), found=rule_sets())
def test_the_chosen_combination_is_at_least_as_good_as_any_single_rule(cart, found):
    lines = [
        rules.Line(i + 1, category, None, price, quantity)
        for i, (price, quantity, category) in enumerate(cart)
    ]
    payables = {line.product_id: line.unit_price * line.quantity for line in lines}
    choice = rules.choose(found, lines, payables)
    for rule in found:
        assert choice.total >= rule.evaluate(lines, payables).amount
    assert choice.total <= sum(payables.values())
    exclusive = [a for a in choice.applied if a.rule.exclusive]
    assert not exclusive or len(choice.applied) == 1


operations = st.lists(
    st.tuples(
        st.sampled_from(["credit", "debit", "spend", "age"]),
        st.integers(min_value=1, max_value=500),
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_the_balance_is_always_the_ledger_sum_and_never_negative(ops):
    member = MemberFactory()
    now = timezone.now()
    for order_number, (op, amount) in enumerate(ops):
        try:
            if op == "credit":
                services.points_adjust(user_id=member.pk, amount=amount, reason="bonus")
            elif op == "debit":
                services.points_adjust(user_id=member.pk, amount=-amount, reason="fix")
            elif op == "spend":
                from django.db import transaction

                with transaction.atomic():
                    services._debit(
                        services.account_lock(member.pk),
                        amount=amount,
                        kind=PointsEntry.Kind.SPEND,
                        reason="spend",
                        ref=f"prop:{member.pk}:{order_number}",
                    )
            else:  # age every lot past its expiry, then expire
                PointsEntry.objects.filter(user=member, remaining__gt=0).update(
                    expires_at=now - timedelta(seconds=amount)
                )
                services.points_expire_member(user_id=member.pk, now=now)
        except PointsInsufficient:
            pass
        balance = points_balance(user=member)
        assert balance >= 0
        assert balance == points_ledger_sum(user=member)
        open_lots = sum(PointsEntry.objects.filter(user=member).values_list("remaining", flat=True))
        assert open_lots == balance  # FIFO consumption keeps the lots in step
    # expiry twice changes nothing the second time
    PointsEntry.objects.filter(user=member, remaining__gt=0).update(expires_at=now)
    services.points_expire_member(user_id=member.pk, now=now)
    assert services.points_expire_member(user_id=member.pk, now=now) == 0
    assert points_balance(user=member) == 0 == points_ledger_sum(user=member)
