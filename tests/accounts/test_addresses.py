"""Addresses: exactly one default, owner-only access on the web pages."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.exceptions import AddressNotFound, DefaultAddressRequired
from accounts.models import Address
from tests.factories import AddressFactory

pytestmark = pytest.mark.django_db

VALID = {
    "recipient_name": "Li Lei",
    "phone": "+86 139 1234 5678",
    "country": "cn",
    "province": "Zhejiang",
    "city": "Hangzhou",
    "district": "Xihu",
    "line1": "18 Wensan Road",
    "line2": "",
    "postal_code": "310012",
}


def _defaults(user):
    return list(Address.objects.filter(user=user, is_default=True))


def test_first_address_becomes_default(member):
    address = services.address_create(user=member, data=VALID)

    assert address.is_default is True


def test_second_address_is_not_default_unless_asked(member):
    first = services.address_create(user=member, data=VALID)

    second = services.address_create(user=member, data=VALID)

    assert second.is_default is False
    assert _defaults(member) == [first]


def test_new_address_asked_as_default_takes_over(member):
    services.address_create(user=member, data=VALID)

    second = services.address_create(user=member, data=VALID, is_default=True)

    assert _defaults(member) == [second]


def test_set_default_clears_the_previous_default(member):
    first = services.address_create(user=member, data=VALID)
    second = services.address_create(user=member, data=VALID)

    services.address_set_default(user=member, address_id=second.pk)

    assert _defaults(member) == [second]
    first.refresh_from_db()
    assert first.is_default is False


def test_deleting_the_default_promotes_the_newest_other(member):
    default = services.address_create(user=member, data=VALID)
    older = services.address_create(user=member, data=VALID)
    newest = services.address_create(user=member, data=VALID)
    assert older.created_at <= newest.created_at

    services.address_delete(user=member, address_id=default.pk)

    assert _defaults(member) == [newest]


def test_deleting_the_last_address_leaves_none(member):
    only = services.address_create(user=member, data=VALID)

    services.address_delete(user=member, address_id=only.pk)

    assert not Address.objects.filter(user=member).exists()


def test_unsetting_the_default_directly_is_refused(member):
    only = services.address_create(user=member, data=VALID)

    with pytest.raises(DefaultAddressRequired):
        services.address_update(user=member, address_id=only.pk, data={}, is_default=False)

    assert _defaults(member) == [only]


def test_service_refuses_another_members_address(member, other_member):
    theirs = services.address_create(user=other_member, data=VALID)

    with pytest.raises(AddressNotFound):
        services.address_set_default(user=member, address_id=theirs.pk)
    with pytest.raises(AddressNotFound):
        services.address_delete(user=member, address_id=theirs.pk)

    assert Address.objects.filter(pk=theirs.pk, is_default=True).exists()


def test_invalid_postal_code_is_refused_and_nothing_saved(member):
    with pytest.raises(ValidationError) as excinfo:
        services.address_create(user=member, data={**VALID, "postal_code": "!"})

    assert "postal_code" in excinfo.value.message_dict
    assert not Address.objects.filter(user=member).exists()


# --- web pages ------------------------------------------------------------------------------


def test_address_list_shows_only_own_addresses(member_client, member, other_member):
    mine = AddressFactory(user=member, line1="1 Mine Street", is_default=True)
    AddressFactory(user=other_member, line1="9 Theirs Street", is_default=True)

    response = member_client.get(reverse("accounts:addresses"))

    assert response.status_code == 200
    assert response.context["addresses"] == [mine]
    assert "9 Theirs Street" not in response.content.decode()


def test_address_list_query_count_does_not_grow_with_addresses(
    member_client, member, django_assert_max_num_queries
):
    AddressFactory(user=member, is_default=True)
    AddressFactory.create_batch(15, user=member)
    member_client.get(reverse("accounts:addresses"))  # warm caches (category tree)

    with django_assert_max_num_queries(4):
        response = member_client.get(reverse("accounts:addresses"))

    assert len(response.context["addresses"]) == 16


def test_add_address_page_creates_default_address(member_client, member):
    response = member_client.post(reverse("accounts:address_add"), VALID)

    assert response.status_code == 302
    address = Address.objects.get(user=member)
    assert address.is_default is True
    assert address.country == "CN"


def test_add_address_page_shows_errors_for_bad_phone_and_postal_code(member_client, member):
    response = member_client.post(
        reverse("accounts:address_add"), {**VALID, "phone": "abc", "postal_code": "#"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "phone" in errors and "postal_code" in errors
    assert not Address.objects.filter(user=member).exists()


def test_edit_address_page_saves_changes(member_client, member):
    address = AddressFactory(user=member, is_default=True)

    response = member_client.post(
        reverse("accounts:address_edit", args=[address.pk]), {**VALID, "city": "Suzhou"}
    )

    assert response.status_code == 302
    address.refresh_from_db()
    assert address.city == "Suzhou"
    assert address.is_default is True


@pytest.mark.parametrize("name", ["address_edit", "address_delete"])
def test_another_members_address_page_is_404(member_client, other_member, name):
    theirs = AddressFactory(user=other_member, is_default=True)

    response = member_client.get(reverse(f"accounts:{name}", args=[theirs.pk]))

    assert response.status_code == 404


def test_posting_to_another_members_address_is_404_and_changes_nothing(member_client, other_member):
    theirs = AddressFactory(user=other_member, is_default=True, city="Beijing")

    edit = member_client.post(
        reverse("accounts:address_edit", args=[theirs.pk]), {**VALID, "city": "Hacked"}
    )
    delete = member_client.post(reverse("accounts:address_delete", args=[theirs.pk]))
    default = member_client.post(reverse("accounts:address_set_default", args=[theirs.pk]))

    assert edit.status_code == delete.status_code == default.status_code == 404
    theirs.refresh_from_db()
    assert theirs.city == "Beijing"


def test_set_default_page_needs_post(member_client, member):
    address = AddressFactory(user=member)

    response = member_client.get(reverse("accounts:address_set_default", args=[address.pk]))

    assert response.status_code == 405


def test_set_default_and_delete_via_pages(member_client, member):
    first = AddressFactory(user=member, is_default=True)
    second = AddressFactory(user=member)

    member_client.post(reverse("accounts:address_set_default", args=[second.pk]))
    member_client.post(reverse("accounts:address_delete", args=[second.pk]))

    assert _defaults(member) == [first]
    assert list(Address.objects.filter(user=member)) == [first]


def test_address_get_absolute_url_is_its_edit_page(member):
    address = AddressFactory(user=member)

    assert address.get_absolute_url() == reverse("accounts:address_edit", args=[address.pk])
