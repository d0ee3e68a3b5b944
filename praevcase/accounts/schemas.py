"""Input and output schemas of accounts (forms and API)."""
from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from praevcase.accounts.models import Role
from praevcase.i18n import LOCALES
from praevcase.i18n import N_
from praevcase.schemas import BaseSchema
from praevcase.tenants.models import AgencyKind


class LoginIn(BaseSchema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(max=256))
    next = fields.String(load_default=None)


class CodeIn(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=6, max=20))


class RecoveryIn(BaseSchema):
    recovery_code = fields.String(required=True, validate=validate.Length(min=6, max=20))


class PasswordChangeIn(BaseSchema):
    current_password = fields.String(required=True)
    new_password = fields.String(required=True)


class TokenCreateIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(fields.Enum(Role), required=True, validate=validate.Length(min=1))


class LocaleIn(BaseSchema):
    locale = fields.String(required=True, validate=validate.OneOf(
        tuple(LOCALES), error=N_("Bitte eine der angebotenen Sprachen wählen.")))


class AgencyRefOut(BaseSchema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.Enum(AgencyKind)


class MeOut(BaseSchema):
    id = fields.UUID()
    email = fields.String()
    display_name = fields.String()
    roles = fields.Method("_roles")
    agency = fields.Nested(AgencyRefOut)
    tenant = fields.Function(lambda u: {"id": str(u.tenant_id), "name": u.tenant.name, "is_demo": u.tenant.is_demo})

    def _roles(self, user):
        return sorted(r.value for r in user.roles)
