"""The JSON API under /api/v1: flask-smorest for OpenAPI, our own problem+json errors."""
from __future__ import annotations

from typing import Any

from apispec import BasePlugin
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


PROBLEM_JSON = "application/problem+json"

#: Largest OFFSET sent to the database: a huge ``page`` of a paginated list (valid input) answers
#: with an empty page instead of overflowing the database's bigint
MAX_OFFSET = 2**62


def page_offset(pagination_parameters: Any) -> int:
    """The OFFSET of a flask-smorest page, bounded by :data:`MAX_OFFSET`."""
    return min(pagination_parameters.first_item, MAX_OFFSET)


class ProblemJsonPlugin(BasePlugin):
    """Every error answer of the API is problem+json (praevcase.errors): the document says so too."""

    def operation_helper(self, path: Any = None, operations: Any = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            for status, response in (operation.get("responses") or {}).items():
                content = response.get("content") if isinstance(response, dict) else None
                if content and str(status)[:1] in ("4", "5") and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")


class PraevcaseApi(Api):
    """flask-smorest without its error handlers: praevcase.errors answers for the whole app."""

    ERROR_SCHEMA = ProblemOut

    def __init__(self, app: Flask | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("spec_kwargs", {}).setdefault("extra_plugins", [ProblemJsonPlugin()])
        super().__init__(app, **kwargs)

    def _register_error_handlers(self) -> None:
        pass

    def _register_pagination_header(self) -> None:
        # X-Pagination carries a JSON object (flask-smorest writes json.dumps): a header "schema" of
        # type object would mean the simple style "k1,v1,k2,v2", so describe it as JSON content
        from flask_smorest.pagination import PaginationMetadataSchema

        self.spec.components.schema("PaginationMetadata", schema=PaginationMetadataSchema)
        self.spec.components.header("PAGINATION", {
            "description": "Pagination metadata (JSON)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaginationMetadata"}}},
        }, lazy=True)

    def _register_responses(self) -> None:
        # the shared error responses (DEFAULT_ERROR, UNPROCESSABLE_ENTITY, …) are problem+json
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE


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
