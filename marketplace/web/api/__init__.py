"""The JSON API under /api/v1: API keys with roles, one error shape, an OpenAPI document.

Routes are flask-smorest's: `@bp.arguments` validates with a schema of `schemas.py`,
`@bp.response` dumps with one, and the same decorators write the OpenAPI document (`openapi.py`).
Whatever refuses a request answers in the one error shape below, never flask-smorest's own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

import flask_smorest
from flask import Request, Response, g, jsonify, request
from marshmallow import Schema, ValidationError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from ...domain import errors
from ...domain.models import ApiKey, Role
from ...extensions import csrf
from ...services import access, unit
from ..errors import status_of

log = logging.getLogger(__name__)


class _Parser(FlaskParser):
    """Reads a request as the API always has: a body must be a JSON object (an empty body is an
    empty object only where nothing is required), unknown fields are refused in the query too,
    and a refusal is a marshmallow ValidationError naming the fields, for `_validation_error`."""

    def load_json(self, req: Request, schema: Schema) -> Any:
        data = req.get_json(silent=True)
        nothing_required = not any(field.required for field in schema.fields.values())
        if data is None and nothing_required and not req.get_data(cache=True):
            return {}
        if not isinstance(data, dict):
            raise ValidationError({"_schema": ["Send a JSON object."]})
        return data

    def handle_error(
        self, error: ValidationError, req: Request, schema: Schema, **_kwargs: Any
    ) -> Any:
        messages = error.messages  # {location: {field: [message]}}: one location per schema
        if isinstance(messages, dict) and len(messages) == 1:
            (messages,) = messages.values()
        raise ValidationError(messages)


class ApiBlueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = _Parser(unknown=None)  # None: each schema's own `unknown` (RAISE)


bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="Ujuzi API")
csrf.exempt(bp)

F = TypeVar("F", bound=Callable[..., Any])


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(errors.DomainError)
def _domain_error(exc: errors.DomainError) -> Response:
    unit.rollback()
    details = {str(exc.context["field"]): [exc.message]} if "field" in exc.context else None
    return error_response(status_of(exc), exc.code, exc.message, details)


@bp.errorhandler(ValidationError)
def _validation_error(exc: ValidationError) -> Response:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return error_response(
        422, "validation_error", "The request has invalid fields.", cast(dict[str, Any], messages)
    )


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """Also used by the app for API paths no route matched (404, 405)."""
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, exc.description or exc.name or "Error")
    if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    unit.rollback()
    log.exception("API error")
    return error_response(500, "internal_error", "Something went wrong on our side.")


def current_key() -> ApiKey:
    return cast(ApiKey, g.api_key)


def actor() -> str:
    key = current_key()
    return f"api:{key.role}:{key.name}"


def requires(*roles: str, who: str | None = None) -> Callable[[F], F]:
    """Authenticate `Authorization: Bearer <key>` and check its role (before any argument is
    read), and say so in the document: the bearer scheme and the roles (`who`, when it says more)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            key = access.authenticate_api_key(token.strip()) if scheme.lower() == "bearer" else None
            if key is None:
                response = error_response(401, "unauthorized", "A valid API key is required.")
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            if key.role not in roles:
                return error_response(403, "forbidden", "This key's role may not do that.")
            g.api_key = key
            key.last_used_at = datetime.now(UTC)
            return view(*args, **kwargs)

        described = bp.doc(
            security=[{"bearer": []}], description=f"Roles: {who or ', '.join(roles)}."
        )
        return cast(F, described(wrapper))

    return decorator


def funder_scope() -> str | None:
    """The funder a key is limited to; None for admin keys (they see every programme)."""
    key = current_key()
    return key.funder if key.role == Role.FUNDER else None


from . import (  # noqa: E402  (routes attach to bp)
    openapi,
    stats,
    views,
)

__all__ = ["bp", "openapi", "stats", "views"]
