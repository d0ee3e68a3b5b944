"""The JSON API under /api/v1: flask-smorest for OpenAPI, our own problem+json errors."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from marshmallow import fields

from praevcase.schemas import BaseSchema


class ProblemOut(BaseSchema):
    """RFC 9457 problem details with a stable machine-readable ``code``."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    code = fields.String(metadata={"description": "stable error code, e.g. invalid_input, not_found"})
    detail = fields.String(metadata={"description": "German message for people"})
    request_id = fields.String(allow_none=True)
    errors = fields.Raw(metadata={"description": "field-level messages for invalid input"})


class PraevcaseApi(Api):
    """flask-smorest without its error handlers: praevcase.errors answers for the whole app."""

    ERROR_SCHEMA = ProblemOut

    def _register_error_handlers(self) -> None:
        pass


API_SPEC_OPTIONS = {
    "info": {"description": "JSON API of praevcase. Authenticate with a personal API token "
                            "(Authorization: Bearer pc_…), created on the page 'Mein Konto'."},
    "security": [{"bearerAuth": []}],
    "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
}


def create_api(app: Flask) -> PraevcaseApi:
    """Create the Api of *app*; features register their blueprints on it."""
    app.config.setdefault("API_SPEC_OPTIONS", API_SPEC_OPTIONS)
    return PraevcaseApi(app)
