"""Keep the cached category tree fresh: any saved or deleted category drops it.

(Bulk ``update()``/``bulk_create()`` send no signals; callers doing those call
``catalog.selectors.category_tree_invalidate()`` themselves.)
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Category
from catalog.selectors import category_tree_invalidate


@receiver(post_save, sender=Category, dispatch_uid="catalog_category_saved")
@receiver(post_delete, sender=Category, dispatch_uid="catalog_category_deleted")
def category_changed(sender, **kwargs) -> None:
    # Now, so this request sees the change, and again after commit, so that a
    # concurrent request cannot re-cache the old tree in between.
    category_tree_invalidate()
    transaction.on_commit(category_tree_invalidate)
