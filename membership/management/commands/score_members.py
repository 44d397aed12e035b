"""``manage.py score_members --as-of DATE --horizon-days N [--output FILE] [--save]``.

Writes CSV ``customer,p_return,expected_orders,expected_spend,tier,segment``, one row
per member with an order on or before DATE (UTC), using only orders up to DATE.
``customer`` is the member's external id (as imported), else ``user:<id>``.
"""

import sys
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from membership.scoring import members_score, scores_save, scores_write_csv

MAX_HORIZON_DAYS = 3650


class Command(BaseCommand):
    help = "Score every member: P(order again), expected orders and spend within a horizon."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="Last day of data used (YYYY-MM-DD).")
        parser.add_argument("--horizon-days", dest="horizon_days", help="Days after DATE.")
        parser.add_argument("--output", "-o", default="-", help="CSV file (default: stdout).")
        parser.add_argument(
            "--save", action="store_true", help="Also store the scores (admin, at-risk list)."
        )
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        if not options["as_of"]:
            raise CommandError("--as-of DATE is required (YYYY-MM-DD).")
        if options["horizon_days"] in (None, ""):
            raise CommandError("--horizon-days N is required (a whole number of days >= 1).")
        try:
            as_of = date.fromisoformat(str(options["as_of"]).strip())
        except ValueError:
            raise CommandError(
                f"--as-of {options['as_of']!r} is not a date; use YYYY-MM-DD."
            ) from None
        try:
            horizon = int(str(options["horizon_days"]).strip())
        except ValueError:
            raise CommandError(
                f"--horizon-days {options['horizon_days']!r} is not a whole number of days."
            ) from None
        if horizon < 1:
            raise CommandError("--horizon-days must be at least 1.")
        if horizon > MAX_HORIZON_DAYS:
            raise CommandError(f"--horizon-days must be at most {MAX_HORIZON_DAYS}.")
        try:
            as_of + timedelta(days=horizon + 1)
        except OverflowError:
            raise CommandError(f"--as-of {as_of} plus the horizon is past the last date.") from None
        if not 0 <= options["seed"] < 2**32:
            raise CommandError("--seed must be a whole number from 0 to 4294967295.")
        started = time.perf_counter()
        scored = members_score(as_of=as_of, horizon_days=horizon, seed=options["seed"])
        if options["output"] == "-":
            n = scores_write_csv(scored, self.stdout)
        else:
            try:
                with open(options["output"], "w", newline="", encoding="utf-8") as handle:
                    n = scores_write_csv(scored, handle)
            except OSError as exc:
                raise CommandError(f"cannot write {options['output']}: {exc}") from exc
        if options["save"]:
            scores_save(scored=scored, as_of=as_of, horizon_days=horizon)
        sys.stderr.write(f"score_members: {n} members in {time.perf_counter() - started:.1f}s\n")
