"""HTML intake forms ↔ the nested intake schemas.

The API sends ``{"children": [{…}], "consent": {…}}``; the form has flat fields named
``children-0-given_name``, ``guardians-1-has_custody``, ``consent-purposes``. This module turns one
into the other, and the schema's nested error messages back into the form's field names.
"""
from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema
from marshmallow import fields

_SLOT = re.compile(r"^(children|guardians)-(\d+)-(\w+)$")
_CONSENT_LISTS = {"purposes", "categories", "recipient_agency_ids"}
GROUPS = ("children", "guardians")
IndexMap = dict[str, list[int]]


def intake_form_data(form: Any, schema: Schema) -> tuple[dict[str, Any], IndexMap]:
    """Schema input from a submitted intake form, and which form slot each list entry came from."""
    out: dict[str, Any] = {}
    slots: dict[str, dict[int, dict[str, str]]] = {g: {} for g in GROUPS}
    consent: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        match = _SLOT.match(key)
        if match:
            value = form.get(key, "").strip()
            if value:
                slots[match[1]].setdefault(int(match[2]), {})[match[3]] = value
        elif key.startswith("consent-"):
            name = key.removeprefix("consent-")
            if name in _CONSENT_LISTS:
                consent[name] = [v for v in form.getlist(key) if v]
            elif form.get(key, "").strip():
                consent[name] = form.get(key).strip()
        elif isinstance(schema.fields.get(key), fields.List):
            out[key] = [v for v in form.getlist(key) if v]
        elif form.get(key, "").strip():
            out[key] = form.get(key).strip()
    for name, field in schema.fields.items():
        if isinstance(field, fields.Boolean) and name not in out:
            out[name] = False  # an unchecked checkbox sends nothing
    index: IndexMap = {g: sorted(slots[g]) for g in GROUPS}
    for group in GROUPS:
        out[group] = [slots[group][i] for i in index[group]]
    if consent:
        out["consent"] = consent
    return out, index


def flat_errors(errors: Any, index: IndexMap | None = None, *, prefix_consent: bool = True) -> dict[str, Any]:
    """Nested schema messages → ``{"children-0-birth_date": [...], "consent-purposes": [...]}``."""
    if not isinstance(errors, dict):
        return {"_form": errors}
    out: dict[str, Any] = {}
    for key, value in errors.items():
        if key in GROUPS and isinstance(value, dict):
            for i, sub in value.items():
                slots = (index or {}).get(key, [])
                slot = slots[int(i)] if int(i) < len(slots) else i
                for name, messages in (sub.items() if isinstance(sub, dict) else [("_schema", sub)]):
                    out[f"{key}-{slot}-{name}"] = messages
        elif key == "consent" and isinstance(value, dict):
            for name, messages in value.items():
                out[f"consent-{name}" if prefix_consent else name] = messages
        elif key in GROUPS and index is not None:
            # a message about the whole list belongs to the first slot of the form
            out[f"{key}-0-{'has_custody' if key == 'guardians' else 'given_name'}"] = value
        else:
            out[key] = value
    return out


def consent_page_data(form: Any) -> dict[str, Any]:
    """The consent page uses the same ``consent-…`` fields as the intake, plus ``version``."""
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        name = key.removeprefix("consent-")
        if name in _CONSENT_LISTS:
            data[name] = [v for v in form.getlist(key) if v]
        elif form.get(key, "").strip():
            data[name] = form.get(key).strip()
    return data


def consent_page_errors(errors: Any) -> dict[str, Any]:
    nested = errors.get("consent", {}) if isinstance(errors, dict) else {}
    flat = {k: v for k, v in (errors or {}).items() if k != "consent"} if isinstance(errors, dict) else {}
    flat.update(nested if isinstance(nested, dict) else {})
    return {(k if k in ("version", "guardians", "_form") else f"consent-{k}"): v for k, v in flat.items()}
