from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin_user = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", ["category", "brand", "product"])
def test_changelists_load_for_staff(staff_client, model):
    ProductFactory.create_batch(3, category=CategoryFactory(parent=CategoryFactory()))

    response = staff_client.get(reverse(f"admin:catalog_{model}_changelist"))

    assert response.status_code == 200


def test_product_changelist_searches_sku_name_and_external_id(staff_client):
    ProductFactory(sku="KET-1", name="Kettle")
    ProductFactory(sku="PAN-1", name="Pan", external_id="ext-42")

    by_external_id = staff_client.get(reverse("admin:catalog_product_changelist"), {"q": "ext-42"})

    assert [p.sku for p in by_external_id.context["cl"].result_list] == ["PAN-1"]


def test_product_changelist_filters_out_of_stock(staff_client):
    ProductFactory(sku="IN", stock=5)
    ProductFactory(sku="OUT", stock=0)

    response = staff_client.get(reverse("admin:catalog_product_changelist"), {"in_stock": "no"})

    assert [p.sku for p in response.context["cl"].result_list] == ["OUT"]


def test_product_changelist_query_count_does_not_grow(staff_client, django_assert_max_num_queries):
    category = CategoryFactory()
    ProductFactory.create_batch(30, category=category)

    with django_assert_max_num_queries(9):
        response = staff_client.get(reverse("admin:catalog_product_changelist"))

    assert response.status_code == 200


def test_deactivate_action_hides_products_from_the_shop(staff_client):
    products = ProductFactory.create_batch(2)

    response = staff_client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "deactivate", "_selected_action": [p.pk for p in products]},
        follow=True,
    )

    assert response.status_code == 200
    assert not Product.objects.filter(is_active=True).exists()
    assert "2 products deactivated." in response.content.decode()


def test_stock_and_price_are_editable_in_the_changelist(staff_client):
    product = ProductFactory(stock=1, price=Decimal("10.00"))
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(product.pk),
        "form-0-price": "12.50",
        "form-0-stock": "7",
        "form-0-is_active": "on",
        "_save": "Save",
    }

    staff_client.post(reverse("admin:catalog_product_changelist"), data)

    product.refresh_from_db()
    assert (product.stock, product.price) == (7, Decimal("12.50"))


def test_changelist_is_not_open_to_shoppers(client):
    client.force_login(UserFactory())

    response = client.get(reverse("admin:catalog_product_changelist"))

    assert response.status_code == 302
