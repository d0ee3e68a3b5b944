"""Admin forms for user accounts."""
from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from praevcase.accounts.models import Role
from praevcase.i18n import N_
from praevcase.schemas import BaseSchema


class UserCreateIn(BaseSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    agency_id = fields.UUID(required=True)
    roles = fields.List(fields.Enum(Role), required=True,
                        validate=validate.Length(min=1, error=N_("Bitte mindestens eine Rolle wählen.")))
    password = fields.String(required=True)


class UserUpdateIn(BaseSchema):
    display_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    agency_id = fields.UUID(required=True)
    roles = fields.List(fields.Enum(Role), required=True,
                        validate=validate.Length(min=1, error=N_("Bitte mindestens eine Rolle wählen.")))


class PasswordSetIn(BaseSchema):
    password = fields.String(required=True)
