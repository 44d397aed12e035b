"""``manage.py seed_demo``: load the demo shop (catalogue, members, 12 months of behaviour
and the orders, reviews and payments it implies).

It lives in ``orders`` because it writes orders; ``browsing.demo`` generates
the shop and writes the catalogue, members and behaviour log.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from browsing.demo.generator import SCALES, DemoConfig
from browsing.demo.writer import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_PASSWORD, default_end
from orders.demo import demo_seed
from orders.tasks import train_sentiment
from promotions.demo import demo_promotions_seed


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


class Command(BaseCommand):
    help = (
        "Load a realistic demo shop: categories, brands, products, members with profiles and "
        "addresses, 12 months of behaviour (views, searches, favourites, carts, purchases, "
        "ratings) and the orders, payments, refunds and reviews behind it, deterministic per "
        "--seed. Idempotent: rows that exist are kept and nothing is "
        f"duplicated. Every demo member logs in with the password '{DEMO_PASSWORD}'; the "
        f"superuser {ADMIN_EMAIL} / '{ADMIN_PASSWORD}' is created if missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--scale",
            choices=sorted(SCALES),
            default="small",
            help="small: 2,000 members / 1,500 products; medium: 5,000 / 3,000; "
            "large: 20,000 / 5,000 (1M+ events).",
        )
        parser.add_argument("--members", type=_positive, help="Override the number of members.")
        parser.add_argument("--products", type=_positive, help="Override the number of products.")
        parser.add_argument("--months", type=_positive, help="Months of history (default 12).")
        parser.add_argument(
            "--end",
            type=date.fromisoformat,
            help="Day the history ends (exclusive), YYYY-MM-DD; default today (UTC).",
        )

    def handle(self, *args, **options):
        try:
            config = DemoConfig.for_scale(
                options["scale"],
                seed=options["seed"],
                end=options["end"] or default_end(),
                members=options["members"],
                products=options["products"],
                months=options["months"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"seed_demo: seed {config.seed}, {config.members:,} members, "
            f"{config.products:,} products, {config.months} months ending {config.end}"
        )
        result = demo_seed(config=config, log=lambda msg: self.stdout.write(f"  {msg}"))
        demo_promotions_seed(log=lambda msg: self.stdout.write(f"  {msg}"))
        if result.nothing_created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo shop already present for seed {config.seed}: nothing to add "
                    f"({result.seconds['total']:.1f}s)."
                )
            )
            return
        created = ", ".join(f"{n:,} {name}" for name, n in result.created.items())
        self.stdout.write(f"Created: {created}.")
        if result.members_present:
            self.stdout.write(f"Kept {result.members_present:,} members that already existed.")
        if result.admin_created:
            self.stdout.write(f"Created superuser {ADMIN_EMAIL} (password '{ADMIN_PASSWORD}').")
        if result.created.get("reviews"):
            # Score the new reviews: train the sentiment classifier on them (a Celery
            # task: in-process by default, on a worker when REDIS_URL is set).
            outcome = train_sentiment.delay()
            if outcome.ready():
                self.stdout.write(f"  sentiment: {outcome.get()}")
            else:
                self.stdout.write("  sentiment: training queued on a Celery worker")
        # Memberships, profiles, segments and scores from the history just written.
        from membership.services import members_rebuild

        members_rebuild(log=lambda msg: self.stdout.write(f"  membership {msg}"))
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
        self.stdout.write(self.style.SUCCESS(f"Demo shop loaded ({timings})."))
