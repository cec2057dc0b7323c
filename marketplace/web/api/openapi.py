"""The OpenAPI 3 document, written by flask-smorest from the routes' own decorators.

Each route declares its schemas with `@bp.arguments` / `@bp.response` / `@bp.alt_response`, the
same ones that validate and dump; `requires` adds its roles and the bearer scheme. What is common
to every operation (the errors any of them may answer) is added here once."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Blueprint, Flask, current_app, jsonify

from . import bp
from . import schemas as s

PREFIX = "/api/v1"

# Any operation may answer these in the one error shape (bad request, no key, wrong role, unknown
# id, a rule refusing, invalid fields).
ERROR_STATUSES = ("400", "401", "403", "404", "409", "422")


class Api(flask_smorest.Api):
    ERROR_SCHEMA = s.ErrorSchema

    def _register_error_handlers(self) -> None:
        """None: the API's errors are its blueprint's own (`api._domain_error` and the rest), and
        every other page keeps the app's handlers."""


doc_bp = Blueprint("api_doc", __name__, url_prefix=PREFIX)

SPEC_KWARGS: dict[str, Any] = {
    "info": {
        "description": "Training vouchers: programmes, providers, vouchers, "
        "sessions, payouts and statistics. Send "
        "`Authorization: Bearer <key>`."
    }
}


def _as_configured(_converter: Any, field: Any, **_: Any) -> dict[str, Any]:
    """What a field accepts as the app is configured now (phone numbers of its country, the codes
    of its reference data, today's birth years): `fields.Line.document`, `BirthYear.document`."""
    document = getattr(field, "document", None)
    return document() if callable(document) else {}


# Answered by every operation that takes a body, before any rule looks at it.
TOO_LARGE = "The body is larger than the server takes (MAX_CONTENT_LENGTH, 16 MB by default)."


def _follow(parameter: str, source: str, **operations: str) -> dict[str, dict[str, Any]]:
    """OpenAPI links: each named operation takes `parameter` from the response body's `source`."""
    return {
        name: {"operationId": operation, "parameters": {parameter: f"$response.body#/{source}"}}
        for name, operation in operations.items()
    }


# Where a created object's id leads (OpenAPI links; schemathesis' stateful tests follow them).
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("post", "/programmes"): _follow(
        "programme_id",
        "id",
        GetProgramme="get_programmes_programme_id",
        IssueVoucher="post_programmes_programme_id_vouchers",
    ),
    ("post", "/providers"): _follow(
        "provider_id",
        "id",
        GetProvider="get_providers_provider_id",
        ApproveProvider="post_providers_provider_id_approve",
        SuspendProvider="post_providers_provider_id_suspend",
        GetPayoutAccount="get_providers_provider_id_payout-account",
        ProposeMpesaAccount="post_providers_provider_id_payout-account_mpesa",
        ProposeBankAccount="post_providers_provider_id_payout-account_bank",
    ),
    **{
        ("post", f"/providers/{{provider_id}}/payout-account/{kind}"): _follow(
            "account_id",
            "id",
            ApprovePayoutAccount="post_payout-accounts_account_id_approve",
            RefusePayoutAccount="post_payout-accounts_account_id_refuse",
        )
        for kind in ("mpesa", "bank")
    },
    ("post", "/programmes/{programme_id}/vouchers"): {
        **_follow(
            "code",
            "code",
            GetVoucher="get_vouchers_code",
            RevokeVoucher="post_vouchers_code_revoke",
        ),
        **_follow(
            "entrepreneur_id",
            "entrepreneur_id",
            GetEntrepreneur="get_entrepreneurs_entrepreneur_id",
        ),
    },
    ("post", "/payouts"): _follow("run_id", "id", GetPayoutRun="get_payouts_run_id"),
}


# Rules of a whole body that its fields' declarations do not carry.
SCHEMA_RULES: dict[str, dict[str, Any]] = {
    "EntrepreneurChangeIn": {"minProperties": 1},  # a trade, a region or both
}


def operation_id(method: str, path: str) -> str:
    words = [part.strip("{}") for part in path.split("/") if part]
    return "_".join([method, *words])


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Ujuzi API")
    app.config.setdefault("API_VERSION", "1.0.0")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    Api(app, spec_kwargs=SPEC_KWARGS).register_blueprint(bp)
    app.register_blueprint(doc_bp)


def build_spec(app: Flask) -> dict[str, Any]:
    """Made from the routes' decorators on each request, as the app is configured now (its
    country's phone numbers, its reference data's codes, today's birth years)."""
    api = Api(app, spec_kwargs=SPEC_KWARGS)
    assert api.ma_plugin.converter is not None
    api.ma_plugin.converter.add_attribute_function(_as_configured)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    bp.register_views_in_doc(api, app, api.spec, name=bp.name, parameters=None)
    return _document(api.spec.to_dict())


def _document(generated: dict[str, Any]) -> dict[str, Any]:
    """Paths relative to the server `/api/v1`, and the common errors on every operation."""
    doc = generated
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    paths: dict[str, Any] = {}
    for full_path, operations in doc.get("paths", {}).items():
        path = full_path.removeprefix(PREFIX) or "/"
        for method, operation in operations.items():
            if not (isinstance(operation, dict) and "responses" in operation):
                continue
            operation["operationId"] = operation_id(method, path)
            responses = operation["responses"]
            for status in ERROR_STATUSES:
                responses.setdefault(status, error)
            if "requestBody" in operation:
                responses["413"] = {**error, "description": TOO_LARGE}
            if (method, path) in LINKS:
                responses["201" if "201" in responses else "200"]["links"] = LINKS[(method, path)]
        paths[path] = operations
    doc["paths"] = paths
    for name, extra in SCHEMA_RULES.items():
        doc["components"]["schemas"][name].update(extra)
    doc["components"]["schemas"].pop("PaginationMetadata", None)  # flask-smorest's; unused here
    doc["servers"] = [{"url": PREFIX}]
    return doc


@doc_bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(build_spec(current_app))


CSV_BODY = (
    "UTF-8 CSV, a header line then one row per voucher: "
    "`phone,name,gender,birth_year,trade,region[,language][,ref]`. Each row is checked on its "
    "own (the same rules as issuing one voucher, and the programme's trades and regions); a 422 "
    "`invalid_rows` when no row could be issued names every bad row and why."
)
CSV_EXAMPLE = (
    "phone,name,gender,birth_year,trade,region,language,ref\n"
    "+254712123456,Amina Wanjiru,female,1994,tailoring,nairobi,en,row-1\n"
)
