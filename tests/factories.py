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


# --- orders -------------------------------------------------------------------


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row as stored (no items): set ``status`` and its time fields as needed.

    Real orders come from ``orders.checkout``; use ``order_with_items`` for an
    order with lines whose totals add up.
    """

    class Meta:
        model = "orders.Order"

    number = factory.Sequence(lambda n: f"T{n:010d}")
    user = factory.SubFactory(MemberFactory)
    currency = "CNY"
    recipient_name = "Li Lei"
    phone = "+86 13800000000"
    city = "Hangzhou"
    line1 = "1 Wensan Road"
    postal_code = "310000"


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.OrderItem"

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.LazyAttribute(lambda o: o.product.name if o.product else "Gone")
    sku = factory.LazyAttribute(lambda o: o.product.sku if o.product else "GONE")
    unit_price = factory.LazyAttribute(lambda o: o.product.price if o.product else Decimal("1"))
    quantity = 1
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


def order_with_items(*, user=None, products=(), quantities=None, status="pending_payment", **kw):
    """An order for ``user`` with one line per product and consistent totals.

    Status time fields up to ``status`` are filled in; no status history,
    stock or payment rows are written.
    """
    from django.utils import timezone

    from orders.models import Order

    order = OrderFactory(user=user or MemberFactory(), status=status, **kw)
    quantities = quantities or [1] * len(products)
    subtotal = Decimal("0.00")
    for product, quantity in zip(products, quantities, strict=True):
        item = OrderItemFactory(order=order, product=product, quantity=quantity)
        subtotal += item.line_total
    order.subtotal = subtotal
    order.total = subtotal + order.shipping_fee
    now = timezone.now()
    path = ["paid", "shipped", "delivered", "completed"]
    if status in path:
        for step in path[: path.index(status) + 1]:
            setattr(order, f"{step}_at", now)
    elif status == Order.Status.CANCELLED:
        order.cancelled_at = now
    elif status == Order.Status.REFUNDED:
        order.paid_at = order.refunded_at = now
    order.save()
    return order


# --- promotions ---------------------------------------------------------------


def _yesterday():
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(days=1)


class PromotionFactory(factory.django.DjangoModelFactory):
    """A live promotion for everyone; default 满200减20."""

    class Meta:
        model = "promotions.Promotion"
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"promo-{n}")
    name = factory.Sequence(lambda n: f"Promotion {n}")
    kind = "threshold"
    tiers = factory.LazyFunction(lambda: [["200.00", "20.00"]])
    starts_at = factory.LazyFunction(lambda: _yesterday())


class CouponCampaignFactory(factory.django.DjangoModelFactory):
    """A live fixed-amount campaign: 10.00 off, no minimum, one use per member."""

    class Meta:
        model = "promotions.CouponCampaign"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    kind = "fixed"
    value = Decimal("10.00")
    starts_at = factory.LazyFunction(lambda: _yesterday())


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "promotions.Coupon"

    campaign = factory.SubFactory(CouponCampaignFactory)
    code = factory.Sequence(lambda n: f"CODE{n:06d}")
    source = "generated"


class ExchangeItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "promotions.ExchangeItem"

    name = factory.Sequence(lambda n: f"Exchange item {n}")
    kind = "coupon"
    campaign = factory.SubFactory(CouponCampaignFactory)
    points_cost = 500
    stock = 10


def points_grant(user, amount: int, reason: str = "test grant"):
    """Give a member points through the ledger (a staff adjustment)."""
    from promotions.services import points_adjust

    return points_adjust(user_id=user.pk, amount=amount, reason=reason)
