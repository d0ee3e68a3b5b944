"""HTML forms validated by the same marshmallow schemas as the API."""
from __future__ import annotations

from typing import Any

from flask import abort
from flask import make_response
from flask import render_template
from flask import request
from marshmallow import Schema
from marshmallow import ValidationError

from praevcase.schemas import form_data


def load_form(schema: Schema, *, template: str, **context: Any) -> dict[str, Any]:
    """Validate the submitted form; on errors re-render *template* with field messages (422)."""
    raw = form_data(request.form, schema)
    try:
        return schema.load(raw)
    except ValidationError as err:
        abort(make_response(render_template(template, errors=err.messages, form=request.form, **context), 422))
