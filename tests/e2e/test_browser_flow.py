"""End to end in headless Chromium (Debian's, never a downloaded one) against the live server.

Skipped when ``chromium`` is not installed (tests/conftest.py); ``make browser-deps``
installs it. A phone-width screenshot of the home page is written to
var/screenshots/ to look at; var/ is not committed.

Create the test data *before* the browser starts (list the data fixture before
``browser``/``page``): once Playwright's sync API runs, ORM calls from the test
happen in another greenlet context and open a database connection that is
never closed, which keeps PostgreSQL from dropping the test database.
"""

import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Browser, Page, expect, sync_playwright

from catalog.money import format_money
from tests.factories import CategoryFactory, ProductFactory

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = BASE_DIR / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
PASSWORD = "kettle-tea-garden-2024"
# Django renders "Password:"; "Confirm password" must not match.
PASSWORD_LABEL = re.compile(r"^Password:?$")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls
    # made by the test itself are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def shop():
    """A department with a product of its own and a subcategory with another."""
    department = CategoryFactory(name="Kitchen")
    kettles = CategoryFactory(name="Kettles", parent=department)
    kettle = ProductFactory(name="Steel Kettle 1.7L", category=department, price=Decimal("129.00"))
    ProductFactory(name="Glass Kettle", category=kettles, price=Decimal("89.50"))
    ProductFactory(name="Oak Chopping Board", category=department, price=Decimal("59.00"))
    return {"department": department, "product": kettle}


def test_member_registers_logs_out_logs_in_and_finds_a_product(live_server, shop, page):
    department, product = shop["department"], shop["product"]

    # given a visitor on the home page
    page.goto(live_server.url + "/")

    # when they register with email, password twice and a display name
    page.get_by_role("link", name="Register").first.click()
    page.get_by_label("Email").fill("new.member@example.com")
    page.get_by_label("Display name").fill("Lin")
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()

    # then they are asked for preferences, which they skip
    expect(page).to_have_url(live_server.url + "/accounts/register/preferences/")
    page.get_by_role("button", name="Skip for now").click()
    expect(page.get_by_role("link", name="My account")).to_be_visible()

    # when they log out and log in again with the same credentials
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="My account")).to_have_count(0)
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email").fill("new.member@example.com")
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # then they are logged in
    expect(page.get_by_role("link", name="My account")).to_be_visible()

    # when they open the department from the navigation and then the product
    departments = page.get_by_role("navigation", name="Departments")
    departments.get_by_role("link", name=department.name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(department.name)
    page.get_by_role("link", name=product.name).first.click()

    # then the product page shows its name and price
    expect(page.get_by_role("heading", level=1)).to_have_text(product.name)
    expect(page.locator(".product-info .price").first).to_have_text(format_money(product.price))


def test_home_page_fits_a_phone_screen_without_sideways_scrolling(live_server, shop, browser):
    # given a phone-sized browser window
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    try:
        # when the home page is opened
        page.goto(live_server.url + "/")
        page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "home-375.png"), full_page=True)

        # then nothing is wider than the screen
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= PHONE["width"]
    finally:
        context.close()


@pytest.fixture
def shopper():
    from tests.factories import MemberFactory

    return MemberFactory(email="shopper@example.com", password=PASSWORD)


def test_visitor_fills_a_cart_logs_in_checks_out_pays_and_sees_the_timeline(
    live_server, shop, shopper, page
):
    from orders.models import Order

    product = shop["product"]

    # given a visitor who puts two of a product in the cart before logging in
    page.goto(live_server.url + product.get_absolute_url())
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".cart-link .badge")).to_have_text("2")

    # when they log in, the cart comes with them
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email").fill(shopper.email)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Cart").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cart")
    expect(page.get_by_role("link", name=product.name)).to_be_visible()

    # and they check out to a new address and place the order
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Recipient").fill("Lin Mei")
    page.get_by_label("Phone").fill("+86 13800001234")
    page.get_by_label("City").fill("Hangzhou")
    page.get_by_label("Street address").fill("8 Wensan Road")
    page.get_by_label("Postal code").fill("310000")
    page.get_by_role("button", name="Place order").click()

    # then they are asked to pay the order's total, and pay
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay order")
    expect(page.get_by_text(format_money(Decimal("258.00"))).first).to_be_visible()
    page.get_by_role("button", name="Pay now").click()

    # then the order page shows it paid, with its timeline of placed and paid
    expect(page.get_by_role("heading", level=1)).to_contain_text("Order ")
    timeline = page.locator(".timeline .timeline-entry")
    expect(timeline).to_have_count(2)
    expect(timeline.nth(1)).to_contain_text("Paid")
    # (ORM reads inside Playwright's context open a connection of their own: close it)
    try:
        order = Order.objects.get(user=shopper)
        lines = [(i.sku, i.quantity) for i in order.items.all()]
    finally:
        connection.close()
    assert order.status == Order.Status.PAID
    assert order.total == Decimal("258.00")  # 2 × 129.00, free shipping above 99.00
    assert lines == [(product.sku, 2)]

    # and the order is listed under "My orders"
    page.goto(live_server.url + "/orders/")
    expect(page.get_by_text(order.number)).to_be_visible()


@pytest.fixture
def loyal_shopper(shop):
    """A member with 1,000 points and a single-use coupon code (data made before the browser)."""
    from tests.factories import CouponCampaignFactory, CouponFactory, MemberFactory, points_grant

    member = MemberFactory(email="loyal@example.com", password=PASSWORD)
    points_grant(member, 1000, reason="Welcome bonus")
    CouponFactory(code="E2E10", campaign=CouponCampaignFactory(name="Ten off", value="10.00"))
    return member


def test_member_checks_out_with_a_coupon_and_points_and_sees_the_discount(
    live_server, shop, loyal_shopper, page
):
    from orders.models import Order

    product = shop["product"]

    # given a member logged in with two kettles (2 × 129.00) in the cart
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(loyal_shopper.email)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + product.get_absolute_url())
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Cart").click()

    # when they enter a coupon code and 500 points on the cart page and apply them
    page.get_by_label("Coupon code").fill("e2e10")
    page.get_by_label("Points to use").fill("500")
    page.get_by_role("button", name="Apply").click()

    # then the cart shows both discounts and the lower total
    summary = page.locator(".cart-summary")
    expect(summary.locator("dt.discount[data-source='coupon']")).to_contain_text("E2E10")
    expect(summary.locator("dd.discount[data-source='coupon']")).to_contain_text(
        format_money(Decimal("10.00"))
    )
    expect(summary.locator("dd.discount[data-source='points']")).to_contain_text(
        format_money(Decimal("5.00"))
    )
    expect(summary.locator(".grand.price")).to_have_text(format_money(Decimal("243.00")))

    # when they check out (coupon and points carried over) to a new address and pay
    page.get_by_role("link", name="Check out").click()
    expect(page.get_by_label("Coupon code")).to_have_value("E2E10")
    page.get_by_label("Recipient").fill("Lin Mei")
    page.get_by_label("Phone").fill("+86 13800001234")
    page.get_by_label("City").fill("Hangzhou")
    page.get_by_label("Street address").fill("8 Wensan Road")
    page.get_by_label("Postal code").fill("310000")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay order")
    expect(page.get_by_text(format_money(Decimal("243.00"))).first).to_be_visible()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Order ")

    # then the order carries the discount and the points page shows the spend
    try:
        order = Order.objects.get(user=loyal_shopper)
    finally:
        connection.close()
    assert (order.discount_total, order.total) == (Decimal("15.00"), Decimal("243.00"))
    page.goto(live_server.url + "/account/points/")
    expect(page.locator(".points-number")).to_have_text("500")
    expect(page.get_by_text(f"Used on order {order.number}")).to_be_visible()


@pytest.fixture
def loyal_data(loyal_shopper, shop):
    """Promotions, a wallet coupon and an exchange item for the phone-width check."""
    from orders.cart import CartOwner, cart_add_item
    from tests.factories import CouponFactory, ExchangeItemFactory, PromotionFactory

    PromotionFactory(code="m300", name="Every 300 off 30 (每满300减30)", tiers=[["300", "30"]])
    CouponFactory(owner=loyal_shopper, code="WALLETCOUPON2024")
    ExchangeItemFactory(name="A rather long exchange item name for a small screen")
    cart_add_item(owner=CartOwner(user=loyal_shopper), product_id=shop["product"].pk, quantity=2)
    return loyal_shopper


def test_loyalty_pages_fit_a_phone_screen(live_server, loyal_data, browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email").fill(loyal_data.email)
        page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name, path in [
            ("cart", "/cart/"),
            ("checkout", "/checkout/"),
            ("points", "/account/points/"),
            ("coupons", "/account/coupons/"),
            ("exchange", "/account/points/exchange/"),
        ]:
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SCREENSHOTS / f"{name}-375.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    finally:
        context.close()
