"""``manage.py train_recommender``: train, select hyperparameters, publish a version."""

from django.core.management.base import BaseCommand, CommandError

from recommend import services
from recommend.exceptions import TrainingLocked
from recommend.ml import pipeline


class Command(BaseCommand):
    help = (
        "Train the recommender on the behaviour log: search hyperparameters of every model "
        "(popularity, ALS, item-kNN cosine / BM25, RP3beta, EASE, sequential) on a temporal "
        "leave-last-out split within a time budget, blend them when that validates better, "
        "refit on all data and publish a new live model version (the same service as the "
        "Celery task)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--budget", type=float, help="seconds for the search (RECOMMEND_SEARCH_BUDGET_SECONDS)"
        )
        parser.add_argument(
            "--validation-users", type=int, help="most members scored during the search"
        )
        parser.add_argument(
            "--families", help="comma-separated model families to consider (default: all)"
        )
        parser.add_argument("--quiet", action="store_true", help="print only the summary")

    def handle(self, *args, **options):
        families = None
        if options["families"]:
            families = [f.strip() for f in options["families"].split(",") if f.strip()]
            known = ["pop", *pipeline.ORDER]
            unknown = [f for f in families if f not in known]
            if unknown or not families:
                raise CommandError(
                    f"unknown model families {unknown or options['families']!r}; "
                    f"choose from {', '.join(known)}"
                )
        log = None if options["quiet"] else (lambda message: self.stderr.write(message))
        try:
            version = services.model_train(
                triggered_by="command",
                budget_seconds=options["budget"],
                validation_users=options["validation_users"],
                families=families,
                log=log,
            )
        except TrainingLocked as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"version {version.pk}: {version.status}")
        for comp in version.hyperparameters.get("components", []):
            self.stdout.write(
                f"  {comp['family']} weight {comp['weight']} {comp['params']} data {comp['data']}"
            )
        for name, m in version.validation.items():
            self.stdout.write(
                f"  validation {name:8s} HR@10 {m.get('hr@10', 0):.4f} "
                f"NDCG@10 {m.get('ndcg@10', 0):.4f}"
            )
        self.stdout.write(f"  timings {version.timings}")
