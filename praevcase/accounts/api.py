"""API: the current user."""
from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from praevcase.accounts.schemas import MeOut
from praevcase.permissions import AUTHENTICATED
from praevcase.permissions import requires

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Konto")


@blp.route("/me")
@requires(AUTHENTICATED)
@blp.response(200, MeOut)
def me():
    """The user the token belongs to, with roles, agency and tenant."""
    return g.user
