"""Signals through which higher apps take part in a member's privacy requests.

accounts is the lowest app and may not import the apps that hold the rest of
a member's data (behaviour log, favourites, orders, reviews). Instead:

- ``user_data_export`` is sent (synchronously) while building the member's
  data export, with ``user``; each receiver returns a dict of sections that is
  merged into the export. Receivers read only that member's rows.
- ``user_data_erase`` is sent inside the account-deletion transaction, with
  ``user``; each receiver deletes or anonymises that member's rows in its app.
  This is the one place where a receiver writes in the caller's transaction
  instead of enqueuing a task: the deletion must be all or nothing.
"""

from django.dispatch import Signal

user_data_export = Signal()
user_data_erase = Signal()
