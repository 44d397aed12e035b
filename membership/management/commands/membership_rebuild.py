"""``manage.py membership_rebuild [--no-scores]``: recompute memberships, profiles,
segments and scores from the order history (run it after ``import_orders``, which
sends no signals; the nightly task does the same)."""

from django.core.management.base import BaseCommand, CommandError

from membership.management.commands.score_members import MAX_HORIZON_DAYS
from membership.services import members_rebuild


class Command(BaseCommand):
    help = "Recompute memberships, profiles, segments and scores from order history."

    def add_arguments(self, parser):
        parser.add_argument("--no-scores", action="store_true", help="Skip the predictions.")
        parser.add_argument("--horizon-days", type=int, default=180)

    def handle(self, *args, **options):
        if not 1 <= options["horizon_days"] <= MAX_HORIZON_DAYS:
            raise CommandError(f"--horizon-days must be from 1 to {MAX_HORIZON_DAYS}.")
        members_rebuild(
            score=not options["no_scores"],
            horizon_days=options["horizon_days"],
            log=lambda msg: self.stdout.write(f"  {msg}"),
        )
        self.stdout.write(self.style.SUCCESS("Membership data rebuilt."))
