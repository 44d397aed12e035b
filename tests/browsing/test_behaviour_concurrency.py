"""Concurrent writers of the behaviour log (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from browsing import services
from browsing.models import Event, Favorite
from tests.factories import MemberFactory, ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_in_threads(functions):
    barrier = threading.Barrier(len(functions))
    errors, results = [], []

    def worker(function):
        try:
            barrier.wait()
            results.append(function())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors, results


def _batch(product, ids):
    now = timezone.now()
    return [
        {
            "client_event_id": client_id,
            "event_type": "view",
            "product_id": product.pk,
            "occurred_at": now,
        }
        for client_id in ids
    ]


def test_the_same_batch_sent_by_eight_threads_is_stored_once_and_counted_exactly():
    member, product = MemberFactory(), ProductFactory()
    ids = [f"e{i}" for i in range(10)]

    errors, results = _run_in_threads(
        [lambda: services.events_ingest(user=member, events=_batch(product, ids)) for _ in range(8)]
    )

    assert errors == []
    assert Event.objects.filter(user=member).count() == 10
    assert sum(r.accepted for r in results) == 10
    assert sum(r.duplicates for r in results) == 70


def test_concurrent_saves_of_one_favourite_keep_one_row_and_one_event():
    member, product = MemberFactory(), ProductFactory()

    errors, results = _run_in_threads(
        [lambda: services.favorite_add(user=member, product_id=product.pk) for _ in range(8)]
    )

    assert errors == []
    assert results.count(True) == 1
    assert Favorite.objects.filter(user=member, product=product).count() == 1
    assert Event.objects.filter(user=member, event_type="favorite").count() == 1


def test_concurrent_views_of_one_product_lose_no_view():
    member, product = MemberFactory(), ProductFactory()
    services.product_view_record(user=member, product_id=product.pk)

    errors, _results = _run_in_threads(
        [lambda: services.product_view_record(user=member, product_id=product.pk)] * 8
    )

    assert errors == []
    [view] = Event.objects.filter(user=member, event_type="view")
    assert view.quantity == 9
