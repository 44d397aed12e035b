"""``manage.py import_orders FILE.csv``: import order history (see ``orders.importing``)."""

from browsing.management.commands.import_events import ImportCommand
from orders.importing import orders_import


class Command(ImportCommand):
    help = (
        "Import order history from a UTF-8 CSV file with a header row "
        "customer,order_id,date,quantity,amount[,item]: one row per order line, rows with the "
        "same order_id form one order; date ISO 8601 (no zone = UTC) or Unix seconds; amount is "
        "the line amount. Orders are written completed, with purchase events. Missing members "
        "and products are created. Re-importing a file adds nothing; an order with a bad row "
        "is skipped whole and its rows reported."
    )
    what = "order lines"
    importer = staticmethod(orders_import)
