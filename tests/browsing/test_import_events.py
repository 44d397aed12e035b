"""``manage.py import_events FILE.csv``: behaviour history into the log."""

import csv
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Profile, User
from browsing import importing
from browsing.importing import DEFAULT_PRICE, DEFAULT_STOCK, import_email
from browsing.models import Event
from catalog.models import Product
from tests.factories import MemberFactory, ProductFactory

HEADER = "user,item,event,timestamp,value\n"

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str, name: str = "events.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_events", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- happy path --------------------------------------------------------------------------


def test_rows_become_events_of_the_mapped_types(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "u1,i1,view,2024-03-01T10:00:00Z,\n"
        + "u1,i1,favorite,2024-03-01T10:01:00Z,\n"
        + "u1,i1,cart,2024-03-01T10:02:00Z,\n"
        + "u1,i1,purchase,2024-03-01T10:03:00Z,19.90\n"
        + "u1,i1,rating,2024-03-05T09:00:00Z,4\n",
    )

    out, _err = run(path)

    rows = list(
        Event.objects.order_by("occurred_at").values_list(
            "user__external_id", "product__external_id", "event_type", "value", "source"
        )
    )
    assert rows == [
        ("u1", "i1", "view", None, "import"),
        ("u1", "i1", "favorite", None, "import"),
        ("u1", "i1", "cart_add", None, "import"),
        ("u1", "i1", "purchase", Decimal("19.90"), "import"),
        ("u1", "i1", "rating", Decimal("4.00"), "import"),
    ]
    assert "5 rows read, 5 events imported, 0 duplicates skipped, 0 bad" in out
    assert "1 members created, 1 products created" in out
    assert "rows/s" in out


def test_missing_members_are_created_once_with_an_unusable_password_and_a_profile(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "C001,i1,view,2024-03-02,\nC001,i2,view,2024-03-01T08:00:00,\nC002,i1,view,1709251200,\n",
    )

    run(path)

    assert User.objects.count() == 2
    user = User.objects.get(external_id="C001")
    assert user.email == "c001@import.invalid"
    assert user.is_active
    assert not user.has_usable_password()
    assert user.date_joined == at(2024, 3, 1, 8)  # the earliest row seen for them
    assert Profile.objects.filter(user=user, display_name="C001").exists()


def test_missing_products_are_created_active_and_purchasable_in_one_category(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "u1,A-1,view,2024-03-01,\nu1,A-2,purchase,2024-03-01,25.5\nu2,A-1,cart,2024-03-02,\n",
    )

    run(path)

    assert Product.objects.count() == 2
    viewed = Product.objects.select_related("category").get(external_id="A-1")
    bought = Product.objects.get(external_id="A-2")
    assert (viewed.sku, viewed.name, viewed.price, viewed.stock) == (
        "IMP-A-1",
        "Item A-1",
        DEFAULT_PRICE,
        DEFAULT_STOCK,
    )
    assert viewed.is_active and viewed.stock > 0 and viewed.price > 0
    assert bought.price == Decimal("25.50")  # the unit price the data gives
    assert viewed.category.slug == "imported" and bought.category_id == viewed.category_id


def test_existing_members_and_products_are_matched_by_external_id(tmp_path):
    member = MemberFactory(external_id="M-7")
    product = ProductFactory(external_id="P-7", price=Decimal("42.00"))
    path = write(tmp_path, HEADER + "M-7,P-7,purchase,2024-03-01,10.00\n")

    out, _ = run(path)

    event = Event.objects.get()
    assert (event.user_id, event.product_id) == (member.pk, product.pk)
    assert "0 members created, 0 products created" in out
    product.refresh_from_db()
    assert product.price == Decimal("42.00")  # an existing product keeps its price


def test_a_product_first_seen_without_a_price_gets_one_from_a_later_purchase(tmp_path):
    path = write(
        tmp_path,
        HEADER + "u1,i1,view,2024-03-01,\nu2,i2,view,2024-03-01,\nu1,i1,purchase,2024-03-02,8.80\n",
    )

    run(path, "--batch-size", "1")

    assert Product.objects.get(external_id="i1").price == Decimal("8.80")
    assert Product.objects.get(external_id="i2").price == DEFAULT_PRICE


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-03-01T10:00:00Z", at(2024, 3, 1, 10)),
        ("2024-03-01T18:00:00+08:00", at(2024, 3, 1, 10)),
        ("2024-03-01 10:00:00", at(2024, 3, 1, 10)),  # no zone: UTC
        ("2024-03-01T10:00:00.250", at(2024, 3, 1, 10, 0, 0, 250000)),
        ("2024-03-01", at(2024, 3, 1)),
        ("20240301", at(2024, 3, 1)),  # ISO 8601 basic date, not seconds in 1970
        ("19970101", at(1997, 1, 1)),
        ("1709287200", at(2024, 3, 1, 10)),  # Unix seconds
        ("1709287200.5", at(2024, 3, 1, 10, 0, 0, 500000)),
    ],
)
def test_timestamps_are_iso_8601_or_unix_seconds_stored_in_utc(tmp_path, stamp, expected):
    path = write(tmp_path, HEADER + f"u1,i1,view,{stamp},\n")

    run(path)

    assert Event.objects.get().occurred_at == expected


def test_columns_may_come_in_any_order_and_case_without_the_value_column(tmp_path):
    path = write(tmp_path, "Timestamp,EVENT,Item,User,extra\n2024-03-01,view,i1,u1,x\n")

    out, _ = run(path)

    event = Event.objects.get()
    assert (event.user.external_id, event.product.external_id, event.event_type) == (
        "u1",
        "i1",
        "view",
    )
    assert "1 events imported" in out


# --- idempotency and duplicates ------------------------------------------------------------


def test_re_importing_the_same_file_adds_nothing(tmp_path):
    path = write(
        tmp_path,
        HEADER + "u1,i1,view,2024-03-01,\nu2,i2,purchase,2024-03-01,5\nu2,i2,rating,2024-03-02,5\n",
    )
    run(path)
    before = (Event.objects.count(), User.objects.count(), Product.objects.count())

    out, _ = run(path)

    assert (Event.objects.count(), User.objects.count(), Product.objects.count()) == before
    assert "3 rows read, 0 events imported, 3 duplicates skipped, 0 bad" in out
    assert "0 members created, 0 products created" in out


def test_exact_duplicate_rows_within_a_file_count_once(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "u1,i1,view,2024-03-01T10:00:00Z,\n"
        + "u1,i1,view,2024-03-01T10:00:00Z,\n"
        + "u1,i1,view,1709287200,\n"  # the same instant as Unix seconds
        + "u1,i1,view,2024-03-01T10:00:01Z,\n",
    )

    out, _ = run(path)

    assert Event.objects.count() == 2
    assert "4 rows read, 2 events imported, 2 duplicates skipped" in out


def test_duplicates_across_batches_count_once(tmp_path):
    path = write(tmp_path, HEADER + "u1,i1,view,2024-03-01,\n" * 3)

    out, _ = run(path, "--batch-size", "1")

    assert Event.objects.count() == 1
    assert "1 events imported, 2 duplicates skipped" in out


def test_events_of_other_sources_are_not_taken_for_duplicates(tmp_path):
    member = MemberFactory(external_id="u1")
    product = ProductFactory(external_id="i1")
    Event.objects.create(
        user=member, product=product, event_type="view", occurred_at=at(2024, 3, 1)
    )
    path = write(tmp_path, HEADER + "u1,i1,view,2024-03-01,\n")

    run(path)

    assert Event.objects.count() == 2


def test_an_interrupted_import_keeps_finished_batches_and_a_rerun_completes_it(
    tmp_path, monkeypatch
):
    path = write(tmp_path, HEADER + "".join(f"u{n},i{n},view,2024-03-01,\n" for n in range(6)))
    real = importing.RowInserter.insert
    calls = {"n": 0}

    def failing_second_batch(self, rows):
        if Event._meta.db_table in self.head:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("connection lost")
        return real(self, rows)

    monkeypatch.setattr(importing.RowInserter, "insert", failing_second_batch)
    with pytest.raises(RuntimeError):
        run(path, "--batch-size", "2")
    # The first batch is kept, the failed one rolled back whole (its members too)
    assert Event.objects.count() == 2
    assert User.objects.count() == 2

    monkeypatch.setattr(importing.RowInserter, "insert", real)
    out, _ = run(path, "--batch-size", "2")

    assert Event.objects.count() == 6
    assert "4 events imported, 2 duplicates skipped" in out


# --- bad rows ------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_line_numbers_and_the_good_ones_kept(tmp_path):
    long_id = "x" * 65
    path = write(
        tmp_path,
        HEADER
        + "u1,i1,view,2024-03-01,\n"  # line 2: good
        + "u1,i1,view,yesterday,\n"  # 3
        + "u1,i1,click,2024-03-01,\n"  # 4
        + ",i1,view,2024-03-01,\n"  # 5
        + "u1,i1,rating,2024-03-01,7\n"  # 6
        + "u1,i1,rating,2024-03-01,\n"  # 7
        + "u1,i1,purchase,2024-03-01,-3\n"  # 8
        + "u1,i1,purchase,2024-03-01,abc\n"  # 9
        + f"{long_id},i1,view,2024-03-01,\n"  # 10
        + "u1,i1,view,1709287200000,\n"  # 11: milliseconds
        + "u1,i1,view,2999-01-01,\n"  # 12
        + "u1,i1\n"  # 13
        + "u1,i1,view,2024-03-01,,surplus\n"  # 14
        + "u1,,view,2024-03-01,\n"  # 15
        + "u1,i1,purchase,2024-03-02,NaN\n"  # 16
        + "u2,i2,rating,2024-03-02,5\n",  # 17: good
    )

    out, err = run(path)

    assert Event.objects.count() == 2
    expected = [
        "line 3: bad timestamp 'yesterday'",
        "line 4: unknown event 'click'",
        "line 5: missing user",
        "line 6: rating '7' is not between 1 and 5",
        "line 7: a rating needs a value from 1 to 5",
        "line 8: unit price '-3' is negative",
        "line 9: unit price 'abc' is not a number",
        "line 10: user is 65 characters long, at most 64",
        "line 11: timestamp '1709287200000' is out of range as Unix seconds",
        "line 12: timestamp '2999-01-01' is in the future",
        "line 13: 2 field(s), expected 5",
        "line 14: 6 fields, the header has 5",
        "line 15: missing item",
        "line 16: unit price 'NaN' is not a number",
    ]
    for message in expected:
        assert message in err
    assert "16 rows read, 2 events imported, 0 duplicates skipped, 14 bad" in out


def test_only_the_first_bad_rows_are_shown_in_full_then_a_count(tmp_path):
    path = write(tmp_path, HEADER + "u1,i1,click,2024-03-01,\n" * 5)

    out, err = run(path, "--max-errors", "2")

    assert err.count("unknown event") == 2
    assert "... and 3 more bad rows" in err
    assert "5 bad" in out


def test_every_bad_row_can_be_written_to_a_file(tmp_path):
    path = write(tmp_path, HEADER + "u1,i1,click,2024-03-01,\nu1,i1,view,never,\n")
    report = tmp_path / "bad.csv"

    run(path, "--bad-rows", str(report), "--max-errors", "0")

    with report.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["line", "reason"]
    assert [line for line, _ in rows[1:]] == ["2", "3"]
    assert rows[1][1].startswith("unknown event") and rows[2][1].startswith("bad timestamp")


def test_control_characters_in_ids_are_refused(tmp_path):
    path = write(tmp_path, HEADER + "u\x001,i1,view,2024-03-01,\n")

    _, err = run(path)

    assert "line 2: user contains control characters" in err
    assert not Event.objects.exists()


# --- the file ------------------------------------------------------------------------------


def test_a_missing_required_column_stops_before_writing(tmp_path):
    path = write(tmp_path, "user,item,timestamp\nu1,i1,2024-03-01\n")

    with pytest.raises(CommandError, match="missing required column.*event"):
        run(path)
    assert not User.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        run(tmp_path / "nope.csv")


def test_an_empty_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is empty"):
        run(write(tmp_path, ""))


def test_a_header_without_rows_imports_nothing(tmp_path):
    out, _ = run(write(tmp_path, HEADER))

    assert "0 rows read, 0 events imported" in out


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    path = write(
        tmp_path, HEADER + "u1,i1,view,2024-03-01,\nJosé,i1,view,2024-03-01,\n", encoding="latin-1"
    )

    with pytest.raises(CommandError, match=r"not UTF-8 text \(line 3"):
        run(path)
    assert not Event.objects.exists()


def test_a_utf16_file_is_refused_with_a_hint(tmp_path):
    path = write(tmp_path, HEADER + "u1,i1,view,2024-03-01,\n", encoding="utf-16")

    with pytest.raises(CommandError, match="UTF-16"):
        run(path)


def test_bom_and_chinese_ids_are_read(tmp_path):
    path = write(
        tmp_path,
        "\ufeff" + HEADER + "张三,商品一,view,2024-03-01,\n李四,商品一,purchase,2024-03-01,9.9\n",
    )

    out, _ = run(path)

    assert "2 events imported" in out
    zhang, li = User.objects.get(external_id="张三"), User.objects.get(external_id="李四")
    assert zhang.email != li.email
    assert zhang.email.isascii() and zhang.email.endswith("@import.invalid")
    product = Product.objects.get(external_id="商品一")
    assert product.name == "Item 商品一" and product.price == Decimal("9.90")


def test_ids_differing_only_in_case_are_different_members(tmp_path):
    path = write(tmp_path, HEADER + "ABC,i1,view,2024-03-01,\nabc,i1,view,2024-03-01,\n")

    run(path)

    emails = set(User.objects.values_list("email", flat=True))
    assert len(emails) == 2
    assert "abc@import.invalid" in emails


def test_placeholder_emails_are_safe_and_distinct():
    assert import_email("C00123") == "c00123@import.invalid"
    assert import_email("a b") != import_email("a_b")
    assert import_email("..") != import_email("...")
    assert all(
        e.split("@")[0].replace("-", "").isalnum()
        for e in (import_email("张三"), import_email("a/b"), import_email(".x."))
    )


def test_bad_batch_size_is_refused(tmp_path):
    with pytest.raises(CommandError):
        run(write(tmp_path, HEADER), "--batch-size", "0")


def test_progress_goes_to_stderr_when_asked(tmp_path):
    path = write(tmp_path, HEADER + "u1,i1,view,2024-03-01,\n")

    out, err = run(path, "--progress")

    assert "1 rows read" in err and "rows/s" in err
    assert "\r" not in out


# --- cost ----------------------------------------------------------------------------------


def _rows(n: int) -> str:
    return "".join(f"u{i},i{i % 50},view,2024-03-01,\n" for i in range(n))


def test_the_queries_of_a_batch_do_not_grow_with_its_rows(tmp_path, django_assert_max_num_queries):
    small, large = (
        write(tmp_path, HEADER + _rows(10), "small.csv"),
        write(tmp_path, HEADER + _rows(600), "large.csv"),
    )
    with django_assert_max_num_queries(20) as few:
        run(small)
    Event.objects.all().delete()

    with django_assert_max_num_queries(40) as many:
        run(large)

    # 60 times the rows: a few more statements where SQLite caps the parameters of
    # one statement (999), none per row (PostgreSQL: the same count)
    assert Event.objects.count() == 600
    assert len(many.captured_queries) <= len(few.captured_queries) + 20


# --- the reader thread ---------------------------------------------------------------------


def test_prefetch_yields_everything_in_order():
    assert list(importing.prefetch(iter(range(50)), depth=2)) == list(range(50))


def test_prefetch_raises_the_readers_error_after_the_items_before_it():
    def items():
        yield 1
        raise ValueError("broken file")

    seen = []
    with pytest.raises(ValueError, match="broken file"):
        for item in importing.prefetch(items()):
            seen.append(item)
    assert seen == [1]


def test_leaving_a_prefetch_loop_early_stops_the_reader():
    produced = []

    def items():
        for n in range(1_000):
            produced.append(n)
            yield n

    for item in importing.prefetch(items(), depth=1):
        if item == 2:
            break

    assert len(produced) < 10
