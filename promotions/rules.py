"""Promotion rules as small objects, and the engine that chooses among them.

A ``Rule`` is a promotion turned into plain Python: a ``Scope`` (which lines it
looks at), a ``MinSpend`` condition on what is payable on those lines, and a
benefit (``ThresholdBenefit`` 满减, ``PercentOff``, ``FixedOff``,
``BuyNGetM``). ``Rule.evaluate(lines, payables)`` returns an ``Outcome``: the
amount and its allocation to lines, or why it gives nothing. Nothing here
touches the database; ``promotions.selectors.promotion_rules`` builds the
rules and ``promotions.adjusters`` feeds them to the pricing pipeline.

Choosing (``choose``): promotions compete. An *exclusive* promotion is applied
alone; *stackable* ones combine. Within a combination, item-level rules
(percentage, fixed, buy-N-get-M) apply before order-level ones (thresholds),
higher priority first, each on what is still payable after the previous ones.
Because a threshold may no longer be reached once a percentage came off, the
engine tries every subset of the eligible stackable rules when there are at
most ``MAX_EXHAUSTIVE`` of them; with more (up to ``MAX_SEARCH``, the highest
priorities), it starts from all of them and drops one rule at a time while
that saves more (a local search), and also tries each rule alone. Every
exclusive rule is tried alone. It keeps the choice that saves the shopper the
most (ties: fewer promotions, then higher priorities). ``Choice.explanation`` says, for each
promotion, whether it applied, was beaten (by what) or is not eligible (why).

Money: amounts are rounded half-up to the cent once per rule (``money``) and
allocated with the pricing boundary's exact ``allocate``; a rule never takes a
line below zero and a budget or cap only lowers an amount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from itertools import combinations

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_EXHAUSTIVE = 6
MAX_SEARCH = 12


def money(amount: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=rounding)


def split(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Exact proportional split (the pricing boundary's ``allocate``, without importing it)."""
    total = sum(weights, ZERO)
    if amount <= 0 or total <= 0:
        return [ZERO for _w in weights]
    amount = min(amount, total)
    shares = [money(w * amount / total, ROUND_DOWN) for w in weights]
    remainder = amount - sum(shares, ZERO)
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        if remainder <= 0:
            break
        extra = min(weights[index] - shares[index], remainder)
        shares[index] += extra
        remainder -= extra
    return shares


@dataclass(frozen=True)
class Line:
    """What a rule sees of a cart line."""

    product_id: int
    category_id: int | None
    brand_id: int | None
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class Outcome:
    amount: Decimal = ZERO
    allocations: dict[int, Decimal] = field(default_factory=dict)
    base: Decimal = ZERO  # what is payable on the lines in scope
    reason: str = ""  # why nothing (a code: out_of_scope, below_min_spend, ...)
    missing: Decimal | None = None  # how much more to spend for the (next) step
    next_saving: Decimal | None = None  # what that next step saves


# --- conditions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Lines of these categories (with their subcategories), brands or products; all lines
    when empty."""

    category_ids: frozenset[int] = frozenset()
    brand_ids: frozenset[int] = frozenset()
    product_ids: frozenset[int] = frozenset()

    @property
    def is_everything(self) -> bool:
        return not (self.category_ids or self.brand_ids or self.product_ids)

    def matches(self, line: Line) -> bool:
        return (
            self.is_everything
            or line.category_id in self.category_ids
            or line.brand_id in self.brand_ids
            or line.product_id in self.product_ids
        )

    def lines(self, lines: Iterable[Line]) -> list[Line]:
        return [line for line in lines if self.matches(line)]


@dataclass(frozen=True)
class MinSpend:
    amount: Decimal = ZERO

    def is_satisfied(self, base: Decimal) -> bool:
        return base >= self.amount

    def missing(self, base: Decimal) -> Decimal:
        return max(self.amount - base, ZERO)


# --- benefits ------------------------------------------------------------------------------


class Benefit:
    """``amount(lines, payables, base) -> (amount, allocations)`` for the lines in scope."""

    level = "item"

    def apply(
        self, lines: list[Line], payables: dict[int, Decimal], base: Decimal
    ) -> tuple[Decimal, dict[int, Decimal]]:
        amount = min(self.amount(base), base)
        return amount, _proportional(lines, payables, amount)

    def amount(self, base: Decimal) -> Decimal:  # pragma: no cover - abstract
        raise NotImplementedError

    def next_step(self, base: Decimal) -> tuple[Decimal, Decimal] | None:
        """(spend more, saving) to reach the next step, or None."""
        return None


def _proportional(
    lines: list[Line], payables: dict[int, Decimal], amount: Decimal
) -> dict[int, Decimal]:
    ids = [line.product_id for line in lines]
    shares = split(amount, [payables[i] for i in ids])
    return {i: s for i, s in zip(ids, shares, strict=True) if s}


@dataclass(frozen=True)
class ThresholdBenefit(Benefit):
    """满减: ``steps`` [(spend, off), ...], the highest reached wins; with ``repeat`` (one
    step) every multiple of the spend takes the amount off again; ``cap`` limits it."""

    steps: tuple[tuple[Decimal, Decimal], ...]
    repeat: bool = False
    cap: Decimal | None = None
    level = "order"

    def amount(self, base: Decimal) -> Decimal:
        steps = sorted(self.steps)
        if self.repeat and steps:
            spend, off = steps[0]
            amount = off * int(base // spend) if spend > 0 else ZERO
        else:
            reached = [off for spend, off in steps if base >= spend]
            amount = max(reached, default=ZERO)
        if self.cap is not None:
            amount = min(amount, self.cap)
        return money(amount)

    def next_step(self, base: Decimal) -> tuple[Decimal, Decimal] | None:
        steps = sorted(self.steps)
        if not steps:
            return None
        if self.repeat:
            spend, _off = steps[0]
            if spend <= 0:
                return None
            target = spend * (int(base // spend) + 1)
            saving = self.amount(target)
            if saving <= self.amount(base):
                return None  # capped: spending more saves nothing more
            return target - base, saving
        for spend, off in steps:
            if base < spend:
                saving = off if self.cap is None else min(off, self.cap)
                return spend - base, money(saving)
        return None


@dataclass(frozen=True)
class PercentOff(Benefit):
    percent: Decimal
    cap: Decimal | None = None

    def amount(self, base: Decimal) -> Decimal:
        amount = money(base * self.percent / Decimal(100))
        return min(amount, self.cap) if self.cap is not None else amount


@dataclass(frozen=True)
class FixedOff(Benefit):
    value: Decimal

    def amount(self, base: Decimal) -> Decimal:
        return money(self.value)


@dataclass(frozen=True)
class BuyNGetM(Benefit):
    """For every ``buy`` + ``free`` units in scope, the ``free`` cheapest are free."""

    buy: int
    free: int

    def apply(self, lines, payables, base):
        units = sorted(
            (line.unit_price, line.product_id) for line in lines for _unit in range(line.quantity)
        )
        group = self.buy + self.free
        free_units = (len(units) // group) * self.free if group > 0 else 0
        allocations: dict[int, Decimal] = {}
        for price, product_id in units[:free_units]:
            room = payables[product_id] - allocations.get(product_id, ZERO)
            share = min(price, room)
            if share > 0:
                allocations[product_id] = allocations.get(product_id, ZERO) + share
        return sum(allocations.values(), ZERO), allocations

    def amount(self, base: Decimal) -> Decimal:  # pragma: no cover - apply() is overridden
        return ZERO


# --- the rule --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One promotion as the engine sees it."""

    id: int
    code: str
    label: str
    benefit: Benefit
    scope: Scope = Scope()
    condition: MinSpend = MinSpend()
    priority: int = 0
    exclusive: bool = False
    # What is left of the budget (None: unlimited); 0 makes the rule give nothing.
    budget_left: Decimal | None = None
    # Not eligible for a reason found while loading (used up by this member...), or "".
    blocked: str = ""

    @property
    def level(self) -> str:
        return self.benefit.level

    def evaluate(self, lines: Sequence[Line], payables: dict[int, Decimal]) -> Outcome:
        if self.blocked:
            return Outcome(reason=self.blocked)
        scoped = [line for line in self.scope.lines(lines) if payables.get(line.product_id, 0) > 0]
        if not scoped:
            return Outcome(reason="out_of_scope")
        base = sum((payables[line.product_id] for line in scoped), ZERO)
        step = self.benefit.next_step(base)
        if not self.condition.is_satisfied(base):
            missing = self.condition.missing(base)
            saving = None
            if not isinstance(self.benefit, BuyNGetM):
                saving = min(self.benefit.amount(self.condition.amount), self.condition.amount)
            return Outcome(base=base, reason="below_min_spend", missing=missing, next_saving=saving)
        amount, allocations = self.benefit.apply(scoped, payables, base)
        if self.budget_left is not None and amount > self.budget_left:
            amount = max(self.budget_left, ZERO)
            ids = [pid for pid, share in allocations.items() if share]
            shares = split(amount, [allocations[pid] for pid in ids])
            allocations = {pid: s for pid, s in zip(ids, shares, strict=True) if s}
        missing, saving = step if step else (None, None)
        if amount <= 0:
            reason = "budget_spent" if self.budget_left is not None else "below_min_spend"
            return Outcome(base=base, reason=reason, missing=missing, next_saving=saving)
        return Outcome(
            amount=amount, allocations=allocations, base=base, missing=missing, next_saving=saving
        )


# --- choosing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    rule: Rule
    amount: Decimal
    allocations: dict[int, Decimal]


@dataclass(frozen=True)
class Choice:
    applied: list[Applied]
    explanation: list[dict]
    # (rule, missing, saving) for the next threshold steps worth showing, nearest first.
    hints: list[tuple[Rule, Decimal, Decimal]]

    @property
    def total(self) -> Decimal:
        return sum((a.amount for a in self.applied), ZERO)


def _order(rules: Iterable[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (r.level != "item", -r.priority, r.code))


def _run(rules: Sequence[Rule], lines: Sequence[Line], payables: dict[int, Decimal]):
    """Apply ``rules`` in engine order; returns (applied, outcomes by rule code)."""
    left = dict(payables)
    applied: list[Applied] = []
    outcomes: dict[str, Outcome] = {}
    for rule in _order(rules):
        outcome = rule.evaluate(lines, left)
        outcomes[rule.code] = outcome
        if outcome.amount > 0:
            applied.append(Applied(rule, outcome.amount, outcome.allocations))
            for pid, share in outcome.allocations.items():
                left[pid] -= share
    return applied, outcomes


def _score(applied: list[Applied]) -> tuple:
    total = sum((a.amount for a in applied), ZERO)
    return (total, -len(applied), sum(a.rule.priority for a in applied))


def choose(
    rules: Sequence[Rule],
    lines: Sequence[Line],
    payables: dict[int, Decimal] | None = None,
    *,
    describe: Callable[[str, Outcome], str] | None = None,
) -> Choice:
    """The combination of ``rules`` that saves the most on ``lines`` (see the module doc)."""
    payables = dict(
        payables or {line.product_id: money(line.unit_price * line.quantity) for line in lines}
    )
    alone = {rule.code: rule.evaluate(lines, payables) for rule in rules}
    eligible = [r for r in rules if alone[r.code].amount > 0]
    stackable = [r for r in eligible if not r.exclusive]
    if len(stackable) > MAX_SEARCH:
        stackable = sorted(stackable, key=lambda r: (-r.priority, r.code))[:MAX_SEARCH]

    best: list[Applied] = []
    best_outcomes: dict[str, Outcome] = {}

    def consider(option: Sequence[Rule]) -> list[Applied]:
        nonlocal best, best_outcomes
        applied, outcomes = _run(option, lines, payables)
        if not best or _score(applied) > _score(best):
            best, best_outcomes = applied, outcomes
        return applied

    for rule in eligible:
        consider([rule])
    if len(stackable) <= MAX_EXHAUSTIVE:
        for size in range(len(stackable), 1, -1):
            for option in combinations(stackable, size):
                consider(option)
    else:
        current = list(stackable)
        current_score = _score(consider(current))
        improved = True
        while improved and len(current) > 1:
            improved = False
            for rule in list(current):
                option = [r for r in current if r is not rule]
                score = _score(_run(option, lines, payables)[0])
                if score > current_score:
                    consider(option)
                    current, current_score, improved = option, score, True
                    break

    chosen = {a.rule.code: a for a in best}
    exclusive_winner = len(best) == 1 and best[0].rule.exclusive
    explanation = []
    for rule in sorted(rules, key=lambda r: (-r.priority, r.code)):
        outcome = alone[rule.code]
        row = {"code": rule.code, "label": rule.label, "amount": ZERO, "exclusive": rule.exclusive}
        if rule.code in chosen:
            row.update(status="applied", amount=chosen[rule.code].amount, reason="")
        elif outcome.amount > 0:
            if exclusive_winner or rule.exclusive:
                reason = "exclusive"
            elif rule.code in best_outcomes and best_outcomes[rule.code].amount <= 0:
                reason = "not_reached_after_other_discounts"
            else:
                reason = "better_combination"
            row.update(status="not_chosen", amount=outcome.amount, reason=reason)
        else:
            row.update(status="not_eligible", reason=outcome.reason, missing=outcome.missing)
        if describe is not None:
            row["message"] = describe(row["reason"], outcome)
        explanation.append(row)

    hints = []
    for rule in rules:
        outcome = best_outcomes.get(rule.code) or alone[rule.code]
        if outcome.missing is not None and outcome.next_saving and outcome.missing > 0:
            hints.append((rule, outcome.missing, outcome.next_saving))
    hints.sort(key=lambda h: (h[1], -h[2]))
    return Choice(applied=best, explanation=explanation, hints=hints)
