"""Rules and the best-combination engine (no database): exact Decimal boundaries."""

from decimal import Decimal

import pytest

from promotions.rules import (
    BuyNGetM,
    FixedOff,
    Line,
    MinSpend,
    PercentOff,
    Rule,
    Scope,
    ThresholdBenefit,
    choose,
    split,
)

D = Decimal


def _line(pid, price, quantity=1, category=None, brand=None):
    return Line(
        product_id=pid, category_id=category, brand_id=brand, unit_price=D(price), quantity=quantity
    )


def _payables(lines):
    return {line.product_id: line.unit_price * line.quantity for line in lines}


def _threshold(code="m200", steps=(("200.00", "20.00"),), **kw):
    return Rule(
        id=kw.pop("id", 1),
        code=code,
        label=code,
        benefit=ThresholdBenefit(
            steps=tuple((D(s), D(o)) for s, o in steps),
            repeat=kw.pop("repeat", False),
            cap=kw.pop("cap", None),
        ),
        **kw,
    )


def _evaluate(rule, *lines):
    return rule.evaluate(list(lines), _payables(lines))


@pytest.mark.parametrize(
    "subtotal,expected",
    [("199.99", "0.00"), ("200.00", "20.00"), ("200.01", "20.00")],
)
def test_spend_threshold_boundaries(subtotal, expected):
    assert _evaluate(_threshold(), _line(1, subtotal)).amount == D(expected)


@pytest.mark.parametrize(
    "subtotal,expected",
    [
        ("499.99", "20.00"),
        ("500.00", "60.00"),
        ("500.01", "60.00"),
        ("999.99", "60.00"),
        ("1000.00", "150.00"),
    ],
)
def test_tiered_threshold_takes_the_highest_step_reached(subtotal, expected):
    rule = _threshold(steps=(("200", "20"), ("500", "60"), ("1000", "150")))
    assert _evaluate(rule, _line(1, subtotal)).amount == D(expected)


@pytest.mark.parametrize(
    "subtotal,expected",
    [("399.99", "20.00"), ("400.00", "40.00"), ("600.00", "60.00"), ("2000.00", "100.00")],
)
def test_repeating_threshold_every_200_off_20_capped_at_100(subtotal, expected):
    rule = _threshold(repeat=True, cap=D("100.00"))
    assert _evaluate(rule, _line(1, subtotal)).amount == D(expected)


def test_below_threshold_says_how_much_more_to_spend_and_what_it_saves():
    outcome = _evaluate(_threshold(), _line(1, "165.00"))
    assert outcome.amount == 0
    assert (outcome.missing, outcome.next_saving) == (D("35.00"), D("20.00"))


def test_between_steps_the_hint_names_the_next_step():
    rule = _threshold(steps=(("200", "20"), ("500", "60")))
    outcome = _evaluate(rule, _line(1, "465.00"))
    assert outcome.amount == D("20.00")
    assert (outcome.missing, outcome.next_saving) == (D("35.00"), D("60.00"))


@pytest.mark.parametrize(
    "price,expected",
    [("33.33", "3.33"), ("33.35", "3.34"), ("0.05", "0.01"), ("0.04", "0.00")],
)
def test_percentage_off_rounds_half_up_to_the_cent(price, expected):
    rule = Rule(id=1, code="p10", label="p10", benefit=PercentOff(percent=D("10")))
    assert _evaluate(rule, _line(1, price)).amount == D(expected)


def test_percentage_cap_and_min_spend_boundaries():
    rule = Rule(
        id=1,
        code="p",
        label="p",
        benefit=PercentOff(percent=D("20"), cap=D("15.00")),
        condition=MinSpend(D("50.00")),
    )
    assert _evaluate(rule, _line(1, "49.99")).amount == 0
    assert _evaluate(rule, _line(1, "50.00")).amount == D("10.00")
    assert _evaluate(rule, _line(1, "100.00")).amount == D("15.00")


def test_fixed_off_never_exceeds_what_is_payable():
    rule = Rule(id=1, code="f", label="f", benefit=FixedOff(value=D("30.00")))
    assert _evaluate(rule, _line(1, "12.34")).amount == D("12.34")


def test_scope_limits_the_base_and_the_allocation_to_matching_lines():
    rule = _threshold(scope=Scope(category_ids=frozenset({7})))
    inside, outside = _line(1, "150.00", category=7), _line(2, "100.00", category=8)
    outcome = _evaluate(rule, inside, outside)
    assert outcome.amount == 0 and outcome.missing == D("50.00")
    outcome = _evaluate(rule, _line(1, "200.00", category=7), outside)
    assert outcome.allocations == {1: D("20.00")}


def test_out_of_scope_rule_says_so():
    rule = _threshold(scope=Scope(brand_ids=frozenset({3})))
    assert _evaluate(rule, _line(1, "500.00", brand=4)).reason == "out_of_scope"


def test_buy_two_get_one_makes_the_cheapest_units_free():
    rule = Rule(id=1, code="b2g1", label="b2g1", benefit=BuyNGetM(buy=2, free=1))
    outcome = _evaluate(rule, _line(1, "30.00", 2), _line(2, "10.00", 1), _line(3, "50.00", 3))
    # 6 units -> 2 free: the 10.00 one and one 30.00
    assert outcome.amount == D("40.00")
    assert outcome.allocations == {2: D("10.00"), 1: D("30.00")}
    assert _evaluate(rule, _line(1, "30.00", 2)).amount == 0


def test_budget_left_caps_the_amount():
    rule = _threshold(budget_left=D("7.50"))
    outcome = _evaluate(rule, _line(1, "150.00"), _line(2, "100.00"))
    assert outcome.amount == D("7.50")
    assert sum(outcome.allocations.values()) == D("7.50")


def test_split_is_exact_and_never_exceeds_a_weight():
    shares = split(D("10.00"), [D("3.33"), D("3.33"), D("3.34")])
    assert sum(shares) == D("10.00")
    assert all(s <= w for s, w in zip(shares, [D("3.33"), D("3.33"), D("3.34")], strict=True))


# --- choosing ------------------------------------------------------------------------------


def test_stackable_promotions_combine_item_level_first():
    percent = Rule(id=2, code="p10", label="p10", benefit=PercentOff(percent=D("10")), priority=1)
    threshold = _threshold(id=1, priority=5)
    choice = choose([threshold, percent], [_line(1, "300.00")])
    # 10% of 300 = 30, then 270 still reaches 200: 20 off
    assert [(a.rule.code, a.amount) for a in choice.applied] == [
        ("p10", D("30.00")),
        ("m200", D("20.00")),
    ]
    assert choice.total == D("50.00")


def test_engine_drops_a_percentage_that_would_break_a_bigger_threshold():
    # 5% of 205 = 10.25 leaves 194.75: the 30.00 threshold would be lost
    percent = Rule(id=2, code="p5", label="p5", benefit=PercentOff(percent=D("5")))
    threshold = _threshold(id=1, steps=(("200", "30"),))
    choice = choose([threshold, percent], [_line(1, "205.00")])
    assert [a.rule.code for a in choice.applied] == ["m200"]
    assert choice.total == D("30.00")
    rows = {row["code"]: row for row in choice.explanation}
    assert rows["p5"]["status"] == "not_chosen"
    assert rows["m200"]["status"] == "applied"


def test_an_exclusive_promotion_wins_only_when_it_saves_more():
    exclusive = _threshold(id=3, code="big", steps=(("500", "60"),), exclusive=True, priority=20)
    every = _threshold(id=1, code="every", repeat=True)
    percent = Rule(id=2, code="p5", label="p5", benefit=PercentOff(percent=D("5")))

    # 520: exclusive 60 vs stack (5% = 26.00, then 494 -> 2×20 = 40) = 66 -> the stack wins
    choice = choose([exclusive, every, percent], [_line(1, "520.00")])
    assert {a.rule.code for a in choice.applied} == {"every", "p5"}
    assert {r["code"]: r["reason"] for r in choice.explanation}["big"] == "exclusive"

    # with only the threshold stackable: 60 (exclusive) beats 2×20 = 40
    choice = choose([exclusive, every], [_line(1, "520.00")])
    assert [a.rule.code for a in choice.applied] == ["big"]
    assert {r["code"]: r["status"] for r in choice.explanation}["every"] == "not_chosen"


def test_ties_prefer_fewer_promotions_then_higher_priority():
    a = Rule(id=1, code="a", label="a", benefit=FixedOff(value=D("10")), exclusive=True)
    b = Rule(id=2, code="b", label="b", benefit=FixedOff(value=D("10")), exclusive=True, priority=3)
    choice = choose([a, b], [_line(1, "100.00")])
    assert [x.rule.code for x in choice.applied] == ["b"]


def test_not_eligible_rules_are_explained_and_hinted():
    threshold = _threshold(id=1)
    choice = choose([threshold], [_line(1, "165.00")], describe=lambda r, o: r)
    (row,) = choice.explanation
    assert row["status"] == "not_eligible" and row["reason"] == "below_min_spend"
    assert row["missing"] == D("35.00")
    assert [(h[0].code, h[1], h[2]) for h in choice.hints] == [("m200", D("35.00"), D("20.00"))]


def test_a_blocked_rule_gives_nothing_and_says_why():
    rule = _threshold(blocked="member_limit")
    choice = choose([rule], [_line(1, "300.00")])
    assert choice.applied == []
    assert choice.explanation[0]["reason"] == "member_limit"
