"""Translated labels: German source strings, English catalogue in praevcase/translations.

Labels defined at import time (dicts of enum labels, schema messages) stay plain German strings,
so API payloads, CSV/PDF exports and the CLI keep them as they are. They are marked with ``N_``
for extraction and translated where a page shows them: ``translated(labels)`` in a view, the
``translate`` filter in a template (gettext at request time, in the user's locale).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from flask_babel import gettext

K = TypeVar("K")

LOCALES = {"de": "Deutsch", "en": "English"}


def N_(message: str) -> str:
    """Mark *message* for extraction (N_ is one of babel's default keywords); translated where shown."""
    return message


def translated(labels: Mapping[K, str]) -> dict[K, str]:
    """A copy of *labels* with every label in the current locale."""
    return {key: gettext(label) for key, label in labels.items()}

