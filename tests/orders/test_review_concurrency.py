"""Two requests reviewing the same order line at once: one review, the other a clear 409."""

import threading

import pytest
from django.db import connection

from orders import reviews
from orders.models import Review
from tests.factories import MemberFactory, ProductFactory, order_with_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def test_racing_reviews_of_one_line_leave_one_review():
    member = MemberFactory()
    item = order_with_items(user=member, products=[ProductFactory()], status="delivered")
    item = item.items.get()
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def write(rating: int) -> None:
        try:
            barrier.wait()
            reviews.review_create(user=member, item_id=item.pk, rating=rating)
            result = "created"
        except reviews.ReviewExists:
            result = "exists"
        except Exception as exc:  # anything else is a bug the test must show
            result = repr(exc)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=write, args=(1 + n % 5,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created"] + ["exists"] * (THREADS - 1)
    assert Review.objects.filter(item=item).count() == 1
