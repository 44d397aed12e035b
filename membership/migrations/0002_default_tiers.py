"""Data: the default tiers (Bronze, Silver, Gold, Platinum) so a new shop has a ladder."""

from decimal import Decimal

from django.db import migrations

TIERS = [
    dict(code="bronze", name="Bronze", name_zh_hans="青铜会员", rank=0,
         min_spend=Decimal("0"), min_orders=0, points_multiplier=Decimal("1.00"),
         discount_percent=Decimal("0"), free_shipping_threshold=None,
         description="Every member starts here: earn points on every order.",
         description_zh_hans="所有会员的起点：每笔订单均可获取积分。"),
    dict(code="silver", name="Silver", name_zh_hans="白银会员", rank=1,
         min_spend=Decimal("1000.00"), min_orders=5, points_multiplier=Decimal("1.25"),
         discount_percent=Decimal("2.00"), free_shipping_threshold=Decimal("59.00"),
         description="Spend 1,000 or complete 5 orders in 12 months: 2% off, 1.25× points, "
         "free shipping from 59.",
         description_zh_hans="12个月内消费满1,000或完成5笔订单：享98折、1.25倍积分、满59包邮。"),
    dict(code="gold", name="Gold", name_zh_hans="黄金会员", rank=2,
         min_spend=Decimal("5000.00"), min_orders=15, points_multiplier=Decimal("1.50"),
         discount_percent=Decimal("5.00"), free_shipping_threshold=Decimal("0.00"),
         exclusive_promotions=True,
         description="Spend 5,000 or complete 15 orders in 12 months: 5% off, 1.5× points, "
         "free shipping, exclusive promotions.",
         description_zh_hans="12个月内消费满5,000或完成15笔订单：享95折、1.5倍积分、全场包邮、专属促销活动。"),
    dict(code="platinum", name="Platinum", name_zh_hans="铂金会员", rank=3,
         min_spend=Decimal("15000.00"), min_orders=40, points_multiplier=Decimal("2.00"),
         discount_percent=Decimal("8.00"), free_shipping_threshold=Decimal("0.00"),
         exclusive_promotions=True, priority_service=True,
         description="Spend 15,000 or complete 40 orders in 12 months: 8% off, double points, "
         "free shipping, exclusive promotions and products, priority service.",
         description_zh_hans="12个月内消费满15,000或完成40笔订单：享92折、双倍积分、全场包邮、专属促销与商品、优先客服。"),
]


def create(apps, schema_editor):
    Tier = apps.get_model("membership", "Tier")
    for row in TIERS:
        Tier.objects.update_or_create(code=row["code"], defaults=row)


def remove(apps, schema_editor):
    Tier = apps.get_model("membership", "Tier")
    Tier.objects.filter(code__in=[t["code"] for t in TIERS], memberships__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("membership", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
