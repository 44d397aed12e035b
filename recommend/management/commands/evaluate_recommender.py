"""``manage.py evaluate_recommender``: leave-last-out evaluation of every model and the hybrid."""

from django.core.management.base import BaseCommand

from recommend import services


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


class Command(BaseCommand):
    help = (
        "Hold out each member's latest interaction (by time), train each model of the live "
        "version's search (its tuned configuration) and the live hybrid on the rest, rank every "
        "item the member has not interacted with, and print HR@10, NDCG@10, Recall@20 and "
        "coverage beside popularity. The results are stored on the live model version."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--users", type=_positive, default=5000, help="most members evaluated (1 or more)"
        )

    def handle(self, *args, **options):
        results = services.model_evaluate(max_users=options["users"])
        if not results:
            self.stdout.write("nothing to evaluate (no member has two products)")
            return
        self.stdout.write(
            f"{'model':10s} {'HR@10':>8s} {'NDCG@10':>8s} {'Rec@20':>8s} {'cover':>7s}"
        )
        for name, m in results.items():
            self.stdout.write(
                f"{name:10s} {m['hr@10']:8.4f} {m['ndcg@10']:8.4f} {m['recall@20']:8.4f} "
                f"{m['coverage']:7.3f}"
            )
