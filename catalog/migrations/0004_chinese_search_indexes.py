"""PostgreSQL-only trigram indexes for searching the Chinese content.

CJK text does not split into words under the 'simple' full-text config, so
``product_search`` matches ``name_zh_hans`` and ``description_zh_hans`` by
substring (``icontains``, i.e. ``UPPER(col) LIKE UPPER(%term%)``). When the
pg_trgm extension is available, trigram GIN indexes on those expressions
serve that match, like ``catalog_product_name_trgm`` of 0002 does for the
English name.

Other databases get nothing. Reversible.
"""

from django.db import migrations, transaction

INDEXES = {
    "catalog_product_name_zh_trgm": "name_zh_hans",
    "catalog_product_desc_zh_trgm": "description_zh_hans",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no privilege or extension missing: search still works, unindexed
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON catalog_product "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_chinese_content"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
