"""``manage.py import_events FILE.csv``: import behaviour history (see ``browsing.importing``).

``ImportCommand`` is shared with ``import_orders``: options, the progress line
on stderr, the bad-row report and the summary.
"""

import csv
from contextlib import ExitStack

from django.core.management.base import BaseCommand, CommandError

from browsing.importing import (
    IMPORT_BATCH,
    MAX_ERRORS_SHOWN,
    ImportFileError,
    ImportReport,
    events_import,
)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


class ImportCommand(BaseCommand):
    """A CSV import command: subclasses set ``importer`` and ``what``."""

    what = "rows"

    @staticmethod
    def importer(**kwargs) -> ImportReport:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8, header row first).")
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=IMPORT_BATCH,
            help=f"Rows written per transaction (default {IMPORT_BATCH:,}).",
        )
        parser.add_argument(
            "--max-errors",
            type=_not_negative,
            default=MAX_ERRORS_SHOWN,
            help=f"Bad rows shown in full on stderr (default {MAX_ERRORS_SHOWN}); "
            "the rest are counted.",
        )
        parser.add_argument(
            "--bad-rows",
            metavar="FILE",
            help="Also write every bad row as CSV (line,reason) to FILE.",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            default=None,
            help="Show the progress line on stderr (default: when stderr is a terminal).",
        )
        parser.add_argument("--no-progress", dest="progress", action="store_false", help="Hide it.")

    def handle(self, *args, **options):
        show = options["progress"]
        if show is None:
            show = self.stderr.isatty()
        self._progress_shown = False
        with ExitStack() as stack:
            on_bad_row = None
            if options["bad_rows"]:
                writer = csv.writer(stack.enter_context(self._open_bad_rows(options["bad_rows"])))
                writer.writerow(["line", "reason"])

                def on_bad_row(line: int, reason: str) -> None:
                    writer.writerow([line, reason])

            try:
                report = self.importer(
                    path=options["file"],
                    batch_size=options["batch_size"],
                    max_errors=options["max_errors"],
                    progress=self._progress if show else None,
                    on_bad_row=on_bad_row,
                )
            except ImportFileError as exc:
                raise CommandError(str(exc))
            finally:
                if self._progress_shown:
                    self.stderr.write("")
        self._report(report)

    @staticmethod
    def _open_bad_rows(path: str):
        try:
            return open(path, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}")

    def _progress(self, report: ImportReport, elapsed: float) -> None:
        rate = report.rows_read / elapsed if elapsed else 0.0
        self._progress_shown = True
        self.stderr.write(
            f"\r  {report.rows_read:,} rows read, {report.imported:,} imported, "
            f"{report.bad:,} bad ({rate:,.0f} rows/s)",
            style_func=str,
            ending="",
        )
        self.stderr.flush()

    def _report(self, report: ImportReport) -> None:
        for line, reason in report.errors:
            self.stderr.write(f"line {line}: {reason}")
        hidden = report.bad - len(report.errors)
        if hidden > 0:
            self.stderr.write(f"... and {hidden:,} more bad rows")
        parts = [
            f"{report.rows_read:,} rows read",
            f"{report.imported:,} {self.what} imported",
        ]
        if report.orders_created or self.what == "order lines":
            parts.append(f"{report.orders_created:,} orders created")
        parts += [
            f"{report.duplicates:,} duplicates skipped",
            f"{report.bad:,} bad",
            f"{report.users_created:,} members created",
            f"{report.products_created:,} products created",
            f"{report.seconds:.1f}s",
            f"{report.rows_per_second:,.0f} rows/s",
        ]
        style = self.style.WARNING if report.bad else self.style.SUCCESS
        self.stdout.write(style("Imported: " + ", ".join(parts) + "."))


class Command(ImportCommand):
    help = (
        "Import behaviour history from a UTF-8 CSV file with a header row "
        "user,item,event,timestamp[,value]: event is view, favorite, cart, purchase or rating; "
        "timestamp ISO 8601 (no zone = UTC) or Unix seconds; value is the rating (1-5) of a "
        "rating and the unit price of a purchase. Missing members and products are created. "
        "Re-importing a file adds nothing. Bad rows are reported with their line and skipped."
    )
    what = "events"
    importer = staticmethod(events_import)
