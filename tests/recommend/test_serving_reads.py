"""recommend's one-query read of the member's purchases and favourite categories."""

import pytest

from browsing.models import Event
from recommend.serving import _purchased_and_preferred
from tests.factories import CategoryFactory, MemberFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_purchases_and_favourite_categories_in_one_query(django_assert_num_queries):
    member, other = MemberFactory(), MemberFactory()
    bought = ProductFactory.create_batch(3)
    for product in bought + bought[:1]:  # bought twice: once in the set
        Event.objects.create(user=member, product=product, event_type=Event.Type.PURCHASE)
    Event.objects.create(user=member, product=ProductFactory(), event_type=Event.Type.VIEW)
    Event.objects.create(user=other, product=ProductFactory(), event_type=Event.Type.PURCHASE)
    first, second = CategoryFactory(), CategoryFactory()
    member.profile.favourite_categories.add(second)
    member.profile.favourite_categories.add(first)
    other.profile.favourite_categories.add(CategoryFactory())

    with django_assert_num_queries(1):
        purchased, preferred = _purchased_and_preferred(member.pk)

    assert purchased == {p.pk for p in bought}
    assert preferred == [second.pk, first.pk]  # in the order they were added
    assert _purchased_and_preferred(MemberFactory().pk) == (set(), [])
