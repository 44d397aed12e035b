"""Shared factory_boy factories. Add yours with a targeted edit, grouped by app."""

from decimal import Decimal

import factory
from django.utils.text import slugify

from catalog.models import Brand, Category, Product

# --- accounts -----------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.User"
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    password = factory.django.Password("correct-horse-battery-9")
    is_active = True


class MemberFactory(UserFactory):
    """A member as registration makes them: a user with a profile."""

    class Meta:
        skip_postgeneration_save = True

    profile = factory.RelatedFactory("tests.factories.ProfileFactory", factory_related_name="user")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Profile"
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    display_name = factory.Faker("first_name")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Tag"

    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name, allow_unicode=True))


class AddressFactory(factory.django.DjangoModelFactory):
    """An address row as stored; services decide the default (pass is_default to force one)."""

    class Meta:
        model = "accounts.Address"

    user = factory.SubFactory(UserFactory)
    recipient_name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+86 138{n:08d}")
    country = "CN"
    province = "Zhejiang"
    city = "Hangzhou"
    district = "Xihu"
    line1 = factory.Sequence(lambda n: f"{n + 1} Wensan Road")
    postal_code = "310000"
    is_default = False


# --- catalog ------------------------------------------------------------------


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name, allow_unicode=True))
    parent = None
    is_active = True


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name, allow_unicode=True))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name, allow_unicode=True) or "p")
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    price = Decimal("99.00")
    list_price = None
    stock = 10
    is_active = True
