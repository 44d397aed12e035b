"""``manage.py import_orders FILE.csv``: order history into orders and the behaviour log."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from browsing.models import Event
from catalog.models import Product
from orders import signals
from orders.importing import NOTE_IMPORTED, import_order_number
from orders.models import Order, OrderItem, OrderStatusChange, Payment
from tests.factories import MemberFactory, ProductFactory, order_with_items

HEADER = "customer,order_id,date,quantity,amount,item\n"

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str, name: str = "orders.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_orders", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- happy path --------------------------------------------------------------------------


def test_rows_with_the_same_order_id_form_one_completed_order(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "c1,A100,2024-03-01T10:00:00Z,2,39.80,i1\n"
        + "c2,B200,2024-03-02T10:00:00Z,1,5.00,i2\n"
        + "c1,A100,2024-03-01T10:00:00Z,3,10.00,i2\n",  # A100 again, after another order
    )

    out, _ = run(path)

    order = Order.objects.select_related("user").get(external_id="A100")
    assert order.number == "IMP-A100"
    assert order.user.external_id == "c1"
    assert (order.status, order.source) == (Order.Status.COMPLETED, Order.Source.IMPORT)
    assert order.placed_at == order.paid_at == order.completed_at == at(2024, 3, 1, 10)
    assert (order.subtotal, order.shipping_fee, order.discount_total, order.total) == (
        Decimal("49.80"),
        0,
        0,
        Decimal("49.80"),
    )
    lines = list(
        order.items.order_by("sku").values_list("sku", "quantity", "unit_price", "line_total")
    )
    assert lines == [
        ("IMP-i1", 2, Decimal("19.90"), Decimal("39.80")),
        ("IMP-i2", 3, Decimal("3.33"), Decimal("10.00")),  # unit price rounded, total exact
    ]
    assert "3 rows read, 3 order lines imported, 2 orders created, 0 duplicates skipped" in out
    assert "2 members created, 2 products created" in out


def test_each_imported_order_has_one_imported_timeline_row_and_no_payment(tmp_path):
    run(write(tmp_path, HEADER + "c1,A1,2024-03-01,1,10,i1\n"))

    change = OrderStatusChange.objects.get()
    assert (change.from_status, change.to_status, change.note) == ("", "completed", NOTE_IMPORTED)
    assert change.changed_by_id is None
    assert change.created_at == at(2024, 3, 1)
    assert not Payment.objects.exists()


def test_each_line_writes_a_purchase_event_joined_by_the_order_number(tmp_path):
    run(write(tmp_path, HEADER + "c1,A1,2024-03-01,2,30.00,i1\nc1,A1,2024-03-01,1,5.00,i2\n"))

    events = sorted(
        Event.objects.values_list(
            "event_type", "user__external_id", "product__external_id", "quantity", "value",
            "ref", "source", "occurred_at",
        )
    )  # fmt: skip
    assert events == [
        ("purchase", "c1", "i1", 2, Decimal("15.00"), "IMP-A1", "import", at(2024, 3, 1)),
        ("purchase", "c1", "i2", 1, Decimal("5.00"), "IMP-A1", "import", at(2024, 3, 1)),
    ]


def test_created_products_are_priced_from_the_data_and_stock_is_not_touched(tmp_path):
    kept = ProductFactory(external_id="old", stock=3)
    run(write(tmp_path, HEADER + "c1,A1,2024-03-01,4,50.00,new\nc1,A1,2024-03-01,2,9,old\n"))

    product = Product.objects.get(external_id="new")
    assert product.price == Decimal("12.50") and product.stock > 0 and product.is_active
    kept.refresh_from_db()
    assert kept.stock == 3
    item = OrderItem.objects.get(product=kept)
    assert (item.product_name, item.sku) == (kept.name, kept.sku)  # the product's snapshot


def test_yyyymmdd_dates_are_calendar_dates_not_unix_seconds(tmp_path):
    """Order histories often write 19970101; as seconds that would be 1970-08-18."""
    path = write(tmp_path, HEADER + "00001,A1,19970101,1,29.33,\n00001,A2,19970918,2,8.00,\n")

    run(path)

    placed = dict(Order.objects.values_list("external_id", "placed_at"))
    assert placed == {"A1": at(1997, 1, 1), "A2": at(1997, 9, 18)}
    assert User.objects.get(external_id="00001")  # the customer id stays a string


def test_an_order_is_placed_at_the_earliest_date_of_its_rows(tmp_path):
    run(
        write(
            tmp_path,
            HEADER + "c1,A1,2024-03-05,1,1,i1\nc1,A1,1709251200,1,1,i2\n",  # 2024-03-01 UTC
        )
    )

    assert Order.objects.get().placed_at == at(2024, 3, 1)


def test_without_an_item_a_line_is_an_imported_item_without_product(tmp_path):
    path = write(tmp_path, "customer,order_id,date,quantity,amount\nc1,A1,2024-03-01,2,8.00\n")

    run(path)

    item = OrderItem.objects.get()
    assert (item.product_id, item.product_name, item.sku, item.unit_price) == (
        None,
        "Imported item",
        "",
        Decimal("4.00"),
    )
    assert not Product.objects.exists()
    event = Event.objects.get()
    assert event.product_id is None and event.ref == "IMP-A1"


def test_an_empty_item_cell_is_a_line_without_product(tmp_path):
    run(write(tmp_path, HEADER + "c1,A1,2024-03-01,1,8,\nc1,A1,2024-03-01,1,2,i1\n"))

    assert sorted(OrderItem.objects.values_list("product_name", flat=True)) == [
        "Imported item",
        "Item i1",
    ]


def test_long_order_ids_get_a_hashed_number_that_fits():
    long_id = "X" * 40

    number = import_order_number(long_id)

    assert len(number) == 32 and number.startswith("IMX-")
    assert number != import_order_number("Y" * 40)
    assert import_order_number("A" * 28) == "IMP-" + "A" * 28


def test_no_signals_are_sent_for_history(tmp_path):
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    signals.order_completed.connect(receiver)
    signals.order_paid.connect(receiver)
    try:
        run(write(tmp_path, HEADER + "c1,A1,2024-03-01,1,8,i1\n"))
    finally:
        signals.order_completed.disconnect(receiver)
        signals.order_paid.disconnect(receiver)

    assert received == []


# --- idempotency and duplicates --------------------------------------------------------------


def test_re_importing_the_same_file_adds_nothing(tmp_path):
    path = write(tmp_path, HEADER + "c1,A1,2024-03-01,1,8,i1\nc2,A2,2024-03-01,1,8,i1\n")
    run(path)
    before = (
        Order.objects.count(),
        OrderItem.objects.count(),
        Event.objects.count(),
        User.objects.count(),
    )

    out, _ = run(path)

    after = (
        Order.objects.count(),
        OrderItem.objects.count(),
        Event.objects.count(),
        User.objects.count(),
    )
    assert after == before
    assert "2 rows read, 0 order lines imported, 0 orders created, 2 duplicates skipped" in out


def test_an_order_already_present_is_skipped_whole(tmp_path):
    member = MemberFactory(external_id="c1")
    existing = order_with_items(user=member, products=[ProductFactory()], external_id="A1")
    path = write(tmp_path, HEADER + "c1,A1,2024-03-01,1,8,i1\nc1,A1,2024-03-01,1,9,i2\n")

    out, _ = run(path)

    assert list(Order.objects.values_list("pk", flat=True)) == [existing.pk]
    assert existing.items.count() == 1
    assert "0 order lines imported, 0 orders created, 2 duplicates skipped" in out


def test_exact_duplicate_rows_of_an_order_count_once(tmp_path):
    path = write(
        tmp_path,
        HEADER + "c1,A1,2024-03-01,1,8,i1\nc1,A1,2024-03-01,1,8,i1\nc1,A1,2024-03-01,2,16,i1\n",
    )

    out, _ = run(path)

    assert OrderItem.objects.count() == 2
    assert Order.objects.get().total == Decimal("24.00")
    assert "2 order lines imported, 1 orders created, 1 duplicates skipped" in out


def test_small_batches_write_the_same_orders(tmp_path):
    rows = "".join(f"c{n // 2 % 3},O{n // 2},2024-03-01,1,{n + 1},i{n}\n" for n in range(9))
    path = write(tmp_path, HEADER + rows)

    out, _ = run(path, "--batch-size", "1")

    assert Order.objects.count() == 5
    assert OrderItem.objects.count() == 9
    assert "9 order lines imported, 5 orders created" in out


# --- bad rows ------------------------------------------------------------------------------


def test_an_order_with_a_bad_row_is_skipped_whole_and_every_row_reported(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "c1,GOOD,2024-03-01,1,8,i1\n"  # line 2
        + "c1,BAD,2024-03-01,1,8,i1\n"  # 3: fine, but its order has a bad row
        + "c1,BAD,2024-03-01,x,8,i2\n",  # 4
    )

    out, err = run(path)

    assert list(Order.objects.values_list("external_id", flat=True)) == ["GOOD"]
    assert "line 4: quantity 'x' is not a whole number >= 1" in err
    assert "line 3: order 'BAD' not imported: bad row(s) on line 4" in err
    assert (
        "3 rows read, 1 order lines imported, 1 orders created, 0 duplicates skipped, 2 bad" in out
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("c1,A1,someday,1,8,i1", "bad date 'someday'"),
        ("c1,A1,19971332,1,8,i1", "bad date '19971332' (YYYYMMDD, but not a calendar date)"),
        (",A1,2024-03-01,1,8,i1", "missing customer"),
        ("c1,A1,2024-03-01,1,-8,i1", "amount '-8' is negative"),
        ("c1,A1,2024-03-01,two,8,i1", "quantity 'two' is not a whole number"),
        ("c1,A1,2024-03-01,0,8,i1", "quantity must be at least 1"),
        ("c1,A1,2024-03-01,1.5,8,i1", "quantity '1.5' is not a whole number"),
        ("c1,A1,2024-03-01,1,,i1", "missing amount"),
        ("c1,A1,2024-03-01,1,eight,i1", "amount 'eight' is not a number"),
        ("c1,A1,2024-03-01,1,1e12,i1", "amount '1e12' is too large"),
        (f"c1,A1,2024-03-01,1,8,{'i' * 65}", "item is 65 characters long, at most 64"),
        (f"{'c' * 65},A1,2024-03-01,1,8,i1", "customer is 65 characters long"),
        (f"c1,{'A' * 65},2024-03-01,1,8,i1", "order_id is 65 characters long"),
        ("c1,,2024-03-01,1,8,i1", "missing order_id"),
        ("c1,A1,2024-03-01,1", "4 field(s), expected 6"),
    ],
)
def test_bad_rows_are_reported_with_their_line_and_reason(tmp_path, row, reason):
    path = write(tmp_path, HEADER + "c9,OK,2024-03-01,1,8,i1\n" + row + "\n")

    out, err = run(path)

    assert f"line 3: {reason}" in err
    assert list(Order.objects.values_list("external_id", flat=True)) == ["OK"]
    assert "1 bad" in out


def test_an_order_naming_several_customers_is_refused(tmp_path):
    path = write(tmp_path, HEADER + "c1,A1,2024-03-01,1,8,i1\nc2,A1,2024-03-01,1,8,i2\n")

    _, err = run(path)

    assert "line 2: order 'A1' names several customers (c1, c2)" in err
    assert "line 3: order 'A1' names several customers" in err
    assert not Order.objects.exists()


# --- the file ------------------------------------------------------------------------------


def test_a_missing_required_column_stops_before_writing(tmp_path):
    path = write(tmp_path, "customer,order_id,date,amount\nc1,A1,2024-03-01,8\n")

    with pytest.raises(CommandError, match="missing required column.*quantity"):
        run(path)
    assert not User.objects.exists()


def test_an_empty_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is empty"):
        run(write(tmp_path, "\n\n"))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        run(tmp_path / "missing.csv")


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = write(tmp_path, HEADER + "Zoë,A1,2024-03-01,1,8,i1\n", encoding="latin-1")

    with pytest.raises(CommandError, match="not UTF-8"):
        run(path)
    assert not Order.objects.exists()


def test_bom_and_chinese_ids_are_read(tmp_path):
    path = write(tmp_path, "\ufeff" + HEADER + "王五,订单-1,2024-03-01,1,88.00,茶杯\n")

    out, _ = run(path)

    order = Order.objects.select_related("user").get()
    assert (order.external_id, order.number, order.user.external_id) == (
        "订单-1",
        "IMP-订单-1",
        "王五",
    )
    assert order.items.get().product_name == "Item 茶杯"
    assert "1 orders created" in out


# --- cost ----------------------------------------------------------------------------------


def _orders(n: int) -> str:
    return "".join(f"c{i},O{i},2024-03-01,1,{i + 1},i{i % 20}\n" for i in range(n))


def test_the_queries_of_a_batch_do_not_grow_with_its_orders(
    tmp_path, django_assert_max_num_queries
):
    few_path = write(tmp_path, HEADER + _orders(5), "few.csv")
    many_path = write(tmp_path, HEADER + _orders(300), "many.csv")
    with django_assert_max_num_queries(30) as few:
        run(few_path)

    with django_assert_max_num_queries(60) as many:
        run(many_path)

    # SQLite caps the parameters of one statement (999): a few more INSERTs, none per order
    assert Order.objects.count() == 300
    assert len(many.captured_queries) <= len(few.captured_queries) + 30


def test_an_order_written_meanwhile_by_another_import_is_skipped_after_a_retry(
    tmp_path, monkeypatch
):
    from django.db import IntegrityError

    from orders import importing

    real = importing._OrderWriter._write
    calls = []

    def racing(self, orders, bad):
        calls.append(1)
        if len(calls) == 1:  # another import committed A1 meanwhile: our insert collides
            raise IntegrityError("duplicate key value violates unique constraint")
        order_with_items(user=MemberFactory(external_id="c1"), products=[], external_id="A1")
        return real(self, orders, bad)

    monkeypatch.setattr(importing._OrderWriter, "_write", racing)

    out, _ = run(write(tmp_path, HEADER + "c1,A1,2024-03-01,1,8,i1\n"))

    assert len(calls) == 2
    assert Order.objects.count() == 1 and not OrderItem.objects.exists()
    assert "0 orders created, 1 duplicates skipped" in out
