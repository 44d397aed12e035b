"""Bilingual catalogue content: English fields with optional Simplified-Chinese twins.

A category's or product's ``name`` and ``description`` are English; the
fields ``name_zh_hans`` / ``description_zh_hans`` hold the Simplified-Chinese
text when the merchant gave one. ``localized(obj, "name")`` returns the text
for the active language (``django.utils.translation.get_language()``): the
Chinese field when the language is zh-hans and the field is not empty, else
the English field. No query: both fields are on the same row.
"""

from __future__ import annotations

from django.utils.translation import get_language

CHINESE = "zh-hans"
CHINESE_SUFFIX = "_zh_hans"


def chinese_active() -> bool:
    """True when the active language is Simplified Chinese."""
    return (get_language() or "").lower() == CHINESE


def localized(obj: object, field: str) -> str:
    """``obj.<field>_zh_hans`` in a zh-hans request when not blank, else ``obj.<field>``."""
    if chinese_active():
        chinese = getattr(obj, f"{field}{CHINESE_SUFFIX}", "") or ""
        if chinese.strip():
            return chinese
    return getattr(obj, field) or ""
