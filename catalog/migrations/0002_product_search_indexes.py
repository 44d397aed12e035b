"""PostgreSQL-only search indexes for catalog.selectors.product_search.

* a GIN index on the product's own full-text document, the exact expression
  ``SearchVector("name", "description", config="simple")`` compiles to;
* when the pg_trgm extension can be created, a trigram GIN index on
  UPPER(name), which serves ``name__icontains`` (CJK and partial words).

Other databases get nothing. Reversible.
"""

from django.db import migrations, transaction

DOCUMENT = (
    "to_tsvector('simple'::regconfig, "
    "COALESCE(\"name\", '') || ' ' || COALESCE(\"description\", ''))"
)
CREATE_DOCUMENT_INDEX = (
    f"CREATE INDEX IF NOT EXISTS catalog_product_search_gin ON catalog_product USING gin (({DOCUMENT}))"
)
CREATE_TRIGRAM_INDEX = (
    "CREATE INDEX IF NOT EXISTS catalog_product_name_trgm ON catalog_product "
    "USING gin ((UPPER(\"name\"::text)) gin_trgm_ops)"
)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_DOCUMENT_INDEX)
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no privilege or extension missing: search still works, unindexed
        return
    schema_editor.execute(CREATE_TRIGRAM_INDEX)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS catalog_product_name_trgm")
    schema_editor.execute("DROP INDEX IF EXISTS catalog_product_search_gin")


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
