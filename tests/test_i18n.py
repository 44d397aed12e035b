"""The Simplified Chinese (zh-Hans) translation: complete, compiled, and actually served.

The catalogue checks parse ``locale/zh_Hans/LC_MESSAGES/django.po`` with a small
pure-Python reader (no gettext tools needed) and compare it with the committed
``django.mo``, so a forgotten ``compilemessages`` fails here rather than in production.
The request tests check that pages and API errors come back in Chinese when the
browser asks for it (Accept-Language or the language cookie) and in English otherwise.

After adding or changing a marked string:

    .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles \
        --ignore=var --no-obsolete
    # translate the new entries, drop their "fuzzy" flag, then
    .venv/bin/python manage.py compilemessages -l zh_Hans --ignore=.venv
"""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import CategoryFactory, ProductFactory

ROOT = Path(settings.BASE_DIR)
LC_MESSAGES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"
ZH = "zh-hans"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Things a translation must carry over unchanged: printf and brace placeholders, "%%", HTML tags.
TOKENS = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|%%|\{[^{}]*\}|</?[a-zA-Z][^<>]*>")


@pytest.fixture(autouse=True)
def _restore_language():
    """Requests activate their language in the thread and leave it active afterwards:
    put the default back, so that later tests (money formatting...) run in English."""
    yield
    translation.deactivate()


# --- a tiny .po reader -----------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def label(self) -> str:
        return repr(self.msgid if self.msgctxt is None else f"{self.msgctxt}|{self.msgid}")

    @property
    def mo_key(self) -> str:
        """The key ``gettext.GNUTranslations`` uses for this entry's singular form."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _po_string(text: str) -> str:
    # PO strings are double-quoted with C escapes (\n, \", \\, \t), which Python reads alike.
    return ast.literal_eval(text)


def parse_po(text: str) -> list[Entry]:
    """Entries of a .po file; the header (empty msgid) is the first one."""
    entries: list[Entry] = []
    current: Entry | None = None
    last: tuple[str, int | None] | None = None
    keyword = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')

    def start_if_needed() -> Entry:
        nonlocal current
        if current is None:
            current = Entry()
            entries.append(current)
        return current

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            current, last = None, None
            continue
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if not line or line.startswith("|"):
                continue
        elif line.startswith("#"):
            if line.startswith("#,"):
                start_if_needed().flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith('"'):
            assert last is not None, f"continuation line without a keyword: {raw!r}"
            name, index = last
            entry = start_if_needed()
            if name == "msgstr":
                entry.msgstr[index or 0] += _po_string(line)
            else:
                setattr(entry, name, (getattr(entry, name) or "") + _po_string(line))
            continue
        match = keyword.match(line)
        assert match, f"unexpected line in {PO_PATH.name}: {raw!r}"
        name, index, value = match.group(1), match.group(2), _po_string(match.group(3))
        entry = start_if_needed()
        if name == "msgid" and (entry.msgid or entry.msgstr):
            # A new entry without a blank line before it: start a new one.
            current = None
            entry = start_if_needed()
        entry.obsolete = entry.obsolete or obsolete
        if name == "msgstr":
            position = int(index) if index is not None else 0
            entry.msgstr[position] = value
            last = ("msgstr", position)
        else:
            setattr(entry, name, value)
            last = (name, None)
    return entries


def _catalogue() -> tuple[Entry, list[Entry]]:
    entries = parse_po(PO_PATH.read_text(encoding="utf-8"))
    header, rest = entries[0], [e for e in entries[1:] if not e.obsolete]
    assert header.msgid == "", "the .po must start with its header"
    return header, rest


def _tokens(text: str) -> Counter:
    return Counter(TOKENS.findall(text))


def test_po_reader_understands_plurals_context_flags_and_continuations():
    # Given a small catalogue using every feature the reader supports
    text = "\n".join(
        [
            'msgid ""',
            'msgstr ""',
            '"Language: zh_Hans\\n"',
            "",
            "#, fuzzy, python-format",
            'msgctxt "menu"',
            'msgid ""',
            '"Hello "',
            '"%(name)s"',
            'msgstr "你好 %(name)s"',
            "",
            'msgid "%d item"',
            'msgid_plural "%d items"',
            'msgstr[0] "%d 件"',
            "",
            '#~ msgid "Gone"',
            '#~ msgstr "没了"',
        ]
    )

    # When it is parsed
    header, context_entry, plural_entry, obsolete_entry = parse_po(text)

    # Then every field lands where it belongs
    assert header.msgstr[0] == "Language: zh_Hans\n"
    assert (context_entry.msgctxt, context_entry.msgid) == ("menu", "Hello %(name)s")
    assert context_entry.flags == {"fuzzy", "python-format"}
    assert context_entry.msgstr == {0: "你好 %(name)s"}
    assert plural_entry.msgid_plural == "%d items"
    assert plural_entry.msgstr == {0: "%d 件"}
    assert obsolete_entry.obsolete


# --- the catalogue -----------------------------------------------------------------


def test_po_header_declares_simplified_chinese_with_one_plural_form():
    header, _entries = _catalogue()

    assert "Language: zh_Hans\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "fuzzy" not in header.flags  # a fuzzy header makes msgfmt drop the plural rule


def test_po_has_many_entries():
    _header, entries = _catalogue()

    assert len(entries) > 250  # guards against a truncated or half-extracted file


def test_every_entry_is_translated():
    _header, entries = _catalogue()

    untranslated = [e.label for e in entries if not e.msgstr.get(0, "").strip()]

    assert untranslated == []


def test_plural_entries_have_exactly_the_one_chinese_form():
    _header, entries = _catalogue()

    wrong = [e.label for e in entries if e.msgid_plural is not None and set(e.msgstr) != {0}]

    assert wrong == []


def test_no_entry_is_fuzzy():
    _header, entries = _catalogue()

    fuzzy = [e.label for e in entries if "fuzzy" in e.flags]

    assert fuzzy == []


def test_translations_keep_placeholders_and_html():
    _header, entries = _catalogue()

    broken = []
    for entry in entries:
        # With nplurals=1 the one form serves every count, so it follows the plural msgid.
        source = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
        if _tokens(source) != _tokens(entry.msgstr.get(0, "")):
            broken.append(entry.label)

    assert broken == []


def test_translations_are_chinese():
    _header, entries = _catalogue()

    # Only strings made of placeholders, digits and signs may stay as they are.
    latin_only = [
        e.label
        for e in entries
        if not CJK.search(e.msgstr.get(0, ""))
        and re.search(r"[A-Za-z]{2,}", TOKENS.sub("", e.msgid))
    ]

    assert latin_only == []


def test_glossary_words_are_used():
    _header, entries = _catalogue()
    by_msgid = {e.msgid: e.msgstr.get(0, "") for e in entries}

    assert by_msgid["Log in"] == "登录"
    assert by_msgid["Register"] == "注册"
    assert by_msgid["Log out"] == "退出登录"
    assert by_msgid["Forgot your password?"] == "忘记密码？"
    assert by_msgid["Preferences"] == "用户喜好"
    assert by_msgid["Default address"] == "默认地址"
    assert by_msgid["Recommended for you"] == "为你推荐"
    assert by_msgid["Added to cart"] == "加入购物车"
    assert "积分" in by_msgid["Members earn points on every order and get offers picked for them."]


def test_compiled_mo_matches_the_po():
    # Given the committed .po and .mo
    _header, entries = _catalogue()
    with MO_PATH.open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)

    # When both are reduced to {key: translation} (msgfmt leaves out fuzzy and empty entries)
    expected: dict = {}
    for entry in entries:
        if "fuzzy" in entry.flags or not entry.msgstr.get(0):
            continue
        if entry.msgid_plural is None:
            expected[entry.mo_key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(entry.mo_key, index)] = text
    actual = {key: text for key, text in compiled._catalog.items() if key != ""}

    # Then they hold the same strings: a stale .mo means compilemessages was not run
    missing_from_mo = sorted(str(k) for k in expected.keys() - actual.keys())
    only_in_mo = sorted(str(k) for k in actual.keys() - expected.keys())
    different = sorted(str(k) for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    assert (missing_from_mo, only_in_mo, different) == ([], [], [])
    assert compiled.plural(5) == 0  # the header's Plural-Forms was compiled in


@pytest.mark.skipif(not shutil.which("xgettext"), reason="gettext tools are not installed")
def test_po_holds_every_string_marked_in_the_source(tmp_path):
    # Given a copy of the sources and of the committed .po
    copy = tmp_path / "src"
    skip = shutil.ignore_patterns(
        ".venv",
        ".git",
        "var",
        "staticfiles",
        "media",
        "node_modules",
        "__pycache__",
        "*.mo",
        "*.sqlite3",
        ".pytest_cache",
        ".ruff_cache",
        "bench",
    )
    shutil.copytree(ROOT, copy, ignore=skip)

    # When makemessages extracts the marked strings again
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete",
         "--ignore=.venv", "--ignore=staticfiles", "--ignore=var"],
        cwd=copy, check=True, capture_output=True, timeout=300,
    )  # fmt: skip

    # Then it finds exactly the strings the committed catalogue holds, all translated
    committed = {e.mo_key for e in _catalogue()[1]}
    extracted = parse_po((copy / "locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8"))
    fresh = {e.mo_key for e in extracted[1:] if not e.obsolete}
    assert sorted(fresh - committed) == [], "new strings: run makemessages and translate them"
    assert sorted(committed - fresh) == [], "strings gone from the source: run makemessages"


def test_django_serves_the_translation():
    # Msgids passed as variables, so that makemessages does not extract this test file.
    log_in, activated = "Log in", ("%d product activated.", "%d products activated.")

    with translation.override(ZH):
        assert translation.gettext(log_in) == "登录"
        assert translation.ngettext(*activated, 3) % 3 == "已上架 3 件商品。"

    with translation.override("en"):
        assert translation.gettext(log_in) == "Log in"


# --- pages -------------------------------------------------------------------------

PAGES = {
    "browsing:home": ["首页", "欢迎来到", "立即加入会员"],
    "accounts:login": ["忘记密码？", "还没有账号？", "免费注册"],
    "accounts:register": ["注册会员", "确认密码", "已经是会员？"],
}


@pytest.fixture
def shop():
    """A department with one product, so the home page shows its product lists."""
    department = CategoryFactory(name="Electronics")
    return ProductFactory(category=department, name="Bluetooth earbuds")


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", PAGES)
def test_page_is_chinese_for_a_chinese_browser(client, shop, url_name):
    response = client.get(reverse(url_name), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    for word in ["登录", "注册", "搜索", "语言", *PAGES[url_name]]:
        assert word in html, word
    assert ">Log in<" not in html
    assert "Search products" not in html


@pytest.mark.django_db
def test_home_page_product_lists_are_chinese(client, shop):
    html = client.get(reverse("browsing:home"), HTTP_ACCEPT_LANGUAGE=ZH).content.decode()

    assert "新品上架" in html
    assert "商品分类" in html
    assert "Bluetooth earbuds" in html


@pytest.mark.django_db
def test_language_cookie_selects_chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = ZH

    html = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="zh-hans">' in html
    assert "忘记密码？" in html


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", PAGES)
def test_page_stays_english_without_a_chinese_preference(client, shop, url_name):
    html = client.get(reverse(url_name)).content.decode()

    assert '<html lang="en">' in html
    assert "Log in" in html
    # The one Chinese text on an English page: the switcher names the language in itself.
    assert not CJK.search(html.replace(">简体中文<", "")), "Chinese text on the English page"


@pytest.mark.django_db
def test_form_errors_are_chinese(client):
    response = client.post(
        reverse("accounts:register"),
        {"email": "not-an-email", "password1": "x", "password2": "y"},
        HTTP_ACCEPT_LANGUAGE=ZH,
    )

    assert response.status_code == 200
    assert "两次输入的密码不一致。" in response.content.decode()


# --- the language switcher ------------------------------------------------------------


@pytest.mark.django_db
def test_set_language_switches_to_chinese(client):
    # Given an English visitor on the login page
    login = reverse("accounts:login")
    assert "Log in" in client.get(login).content.decode()

    # When they choose 简体中文 in the footer switcher
    response = client.post(reverse("set_language"), {"language": ZH, "next": login})

    # Then they go back to the page and every following page is Chinese
    assert response.status_code == 302
    assert response["Location"] == login
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ZH
    html = client.get(login).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "忘记密码？" in html


@pytest.mark.django_db
def test_set_language_switches_back_to_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = ZH

    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    html = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="en">' in html
    assert "Forgot your password?" in html


@pytest.mark.django_db
def test_set_language_ignores_an_unknown_language(client):
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert '<html lang="en">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_set_language_does_not_redirect_to_another_site(client):
    response = client.post(
        reverse("set_language"), {"language": ZH, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


@pytest.mark.django_db
def test_footer_switcher_offers_both_languages(client):
    html = client.get(reverse("accounts:login")).content.decode()

    assert f'action="{reverse("set_language")}"' in html
    assert '<option value="zh-hans"' in html
    assert "简体中文" in html
    assert '<option value="en" selected' in html


# --- the API -----------------------------------------------------------------------------


def test_api_authentication_error_is_chinese(api_client):
    response = api_client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE=ZH)

    body = response.json()
    assert response.status_code == 401
    assert body["code"] == "not_authenticated"
    assert CJK.search(body["message"]), body["message"]  # DRF's own zh_Hans catalogue
    assert response["Content-Language"] == ZH


def test_api_authentication_error_stays_english_by_default(api_client):
    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["message"] == "Authentication credentials were not provided."


@pytest.mark.django_db
def test_api_validation_error_is_chinese(api_client):
    response = api_client.get(
        reverse("catalog-api:product-list"),
        {"min_price": "10", "max_price": "1"},
        HTTP_ACCEPT_LANGUAGE=ZH,
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "validation_error"
    assert body["message"] == "请求无效。"
    assert body["detail"]["max_price"] == ["max_price 不能低于 min_price。"]


@pytest.mark.django_db
def test_api_wrong_password_message_is_chinese(api_client):
    response = api_client.post(
        reverse("accounts-api:token"),
        {"email": "nobody@example.com", "password": "wrong-password-123"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=ZH,
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid_credentials"
    assert body["message"] == "邮箱地址或密码错误。"
