"""``manage.py export_recommendations --users FILE --k N``: JSON lines of top-k lists."""

import contextlib
import sys

from django.core.management.base import BaseCommand, CommandError

from recommend.exporting import export_lines, read_user_ids


def _k(value: str) -> int:
    k = int(value)
    if not 1 <= k <= 1000:
        raise ValueError("k must be 1 to 1000")
    return k


class Command(BaseCommand):
    help = (
        'Write {"user": external_id, "items": [external ids]} per line for the members listed '
        "in FILE (one external id per line; a header 'user' is skipped), k items each: the "
        "live version's list without the products the member interacted with, filled by "
        "popularity."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", required=True, help="file of member external ids")
        parser.add_argument("--k", type=_k, default=10, help="items per member (default 10)")
        parser.add_argument("--output", help="write here instead of standard output")

    def handle(self, *args, **options):
        try:
            with open(options["users"], encoding="utf-8-sig") as f:
                ids = read_user_ids(f)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {options['users']}: {exc}") from exc
        try:
            target = (
                open(options["output"], "w", encoding="utf-8")  # noqa: SIM115
                if options["output"]
                else contextlib.nullcontext(sys.stdout)
            )
        except OSError as exc:
            raise CommandError(f"cannot write {options['output']}: {exc}") from exc
        with target as out:
            for line in export_lines(ids, options["k"]):
                out.write(line + "\n")
