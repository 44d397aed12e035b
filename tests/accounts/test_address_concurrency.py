"""Exactly one default address under concurrent writers (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection

from accounts import services
from accounts.models import Address
from tests.accounts.test_addresses import VALID
from tests.factories import AddressFactory, MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_in_threads(functions):
    barrier = threading.Barrier(len(functions))
    errors = []

    def worker(function):
        try:
            barrier.wait()
            function()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_concurrent_set_default_leaves_exactly_one_default():
    member = MemberFactory()
    addresses = [AddressFactory(user=member, is_default=(i == 0)) for i in range(6)]

    errors = _run_in_threads(
        [lambda a=a: services.address_set_default(user=member, address_id=a.pk) for a in addresses]
    )

    assert errors == []
    assert Address.objects.filter(user=member, is_default=True).count() == 1


def test_concurrent_first_addresses_make_exactly_one_default():
    member = MemberFactory()

    errors = _run_in_threads(
        [lambda: services.address_create(user=member, data=VALID) for _ in range(5)]
    )

    assert errors == []
    assert Address.objects.filter(user=member).count() == 5
    assert Address.objects.filter(user=member, is_default=True).count() == 1
