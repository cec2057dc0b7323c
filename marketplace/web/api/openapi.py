"""The OpenAPI 3 document, built with apispec from the same marshmallow schemas the views use."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify

from ...domain.base import MAX_ID
from . import bp
from . import schemas as s

# (method, path, summary, roles, request body schema, response schema, success status, query schema)
ROUTES: list[tuple[str, str, str, str, Any, Any, int, Any]] = [
    (
        "get",
        "/programmes",
        "List programmes (a funder key sees its own)",
        "admin, funder",
        None,
        s.ProgrammeList,
        200,
        None,
    ),
    (
        "post",
        "/programmes",
        "Create a programme",
        "admin",
        s.ProgrammeIn,
        s.ProgrammeOut,
        201,
        None,
    ),
    (
        "get",
        "/programmes/{programme_id}",
        "One programme",
        "admin, funder",
        None,
        s.ProgrammeOut,
        200,
        None,
    ),
    ("get", "/providers", "List providers", "admin", None, s.ProviderPage, 200, s.ProviderQuery),
    (
        "post",
        "/providers",
        "Register a provider (status pending)",
        "admin",
        s.ProviderIn,
        s.ProviderOut,
        201,
        None,
    ),
    ("get", "/providers/{provider_id}", "One provider", "admin", None, s.ProviderOut, 200, None),
    (
        "post",
        "/providers/{provider_id}/approve",
        "Approve a provider",
        "admin",
        None,
        s.ProviderOut,
        200,
        None,
    ),
    (
        "post",
        "/providers/{provider_id}/suspend",
        "Suspend a provider",
        "admin",
        None,
        s.ProviderOut,
        200,
        None,
    ),
    (
        "get",
        "/entrepreneurs",
        "Find an entrepreneur by ?phone=",
        "admin",
        None,
        s.EntrepreneurList,
        200,
        s.EntrepreneurQuery,
    ),
    (
        "get",
        "/entrepreneurs/{entrepreneur_id}",
        "One entrepreneur",
        "admin",
        None,
        s.EntrepreneurOut,
        200,
        None,
    ),
    (
        "patch",
        "/entrepreneurs/{entrepreneur_id}",
        "Change an entrepreneur's trade or region (audited; refused while a voucher they hold"
        " would no longer be covered)",
        "admin",
        s.EntrepreneurChangeIn,
        s.EntrepreneurOut,
        200,
        None,
    ),
    (
        "post",
        "/programmes/{programme_id}/vouchers",
        "Issue one voucher (registers the entrepreneur when new)",
        "admin",
        s.VoucherIn,
        s.VoucherOut,
        201,
        None,
    ),
    (
        "post",
        "/programmes/{programme_id}/vouchers/import",
        "Issue vouchers from CSV (text/csv body or multipart 'file'); per-row report",
        "admin",
        "csv",
        s.ImportReportOut,
        201,
        None,
    ),
    ("get", "/vouchers", "List vouchers", "admin", None, s.VoucherPage, 200, s.VoucherQuery),
    ("get", "/vouchers/{code}", "One voucher", "admin", None, s.VoucherOut, 200, None),
    (
        "post",
        "/vouchers/{code}/revoke",
        "Revoke a voucher",
        "admin",
        s.RevokeIn,
        s.VoucherOut,
        200,
        None,
    ),
    (
        "get",
        "/sessions",
        "List sessions (needs_review=true for the review queue)",
        "admin",
        None,
        s.SessionPage,
        200,
        s.SessionQuery,
    ),
    (
        "post",
        "/sessions/{session_id}/review",
        "Decide a disputed or flagged session",
        "admin",
        s.ReviewIn,
        s.SessionOut,
        200,
        None,
    ),
    ("get", "/payouts", "Payout runs", "admin", None, s.PayoutRunList, 200, None),
    ("post", "/payouts", "Run a payout", "admin", s.PayoutRunIn, s.PayoutRunOut, 201, None),
    (
        "get",
        "/payouts/{run_id}",
        "One payout run with its statements",
        "admin",
        None,
        s.PayoutRunOut,
        200,
        None,
    ),
    (
        "get",
        "/payouts/{run_id}/csv",
        "A payout run as CSV for mobile money or bank",
        "admin",
        None,
        "csv",
        200,
        None,
    ),
    (
        "post",
        "/payouts/statements/{payout_id}/paid",
        "Mark a statement paid",
        "admin",
        s.PaidIn,
        s.PayoutOut,
        200,
        None,
    ),
]

# Routes that answer a second success status with the same body: (method, path) -> status, when.
ALSO_ANSWERS: dict[tuple[str, str], tuple[int, str]] = {
    ("post", "/programmes/{programme_id}/vouchers"): (
        200,
        "This `ref` was sent before: the voucher issued then, and nothing issued now.",
    ),
    ("post", "/programmes/{programme_id}/vouchers/import"): (
        200,
        "Nothing new issued: every row was issued before (the same file sent again). "
        "201 when at least one row was issued now.",
    ),
}

_INT_PARAMS = {
    "programme_id",
    "provider_id",
    "entrepreneur_id",
    "session_id",
    "run_id",
    "payout_id",
}


def add_route(
    method: str,
    path: str,
    summary: str,
    roles: str,
    body: Any,
    response: Any,
    status: int,
    query: Any,
) -> None:
    """Channels that add API routes (statistics) document them here too."""
    ROUTES.append((method, path, summary, roles, body, response, status, query))


def _as_configured(_converter: Any, field: Any, **_: Any) -> dict[str, Any]:
    """What a field accepts as the app is configured now (phone numbers of its country, the codes
    of its reference data, today's birth years): `fields.Line.document`, `BirthYear.document`."""
    document = getattr(field, "document", None)
    return document() if callable(document) else {}


# Answered by every operation that takes a body, before any rule looks at it.
TOO_LARGE = "The body is larger than the server takes (MAX_CONTENT_LENGTH, 16 MB by default)."

# Where a created object's id leads (OpenAPI links; schemathesis' stateful tests follow them).
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("post", "/programmes"): {
        "GetProgramme": {
            "operationId": "get_programmes_programme_id",
            "parameters": {"programme_id": "$response.body#/id"},
        },
        "IssueVoucher": {
            "operationId": "post_programmes_programme_id_vouchers",
            "parameters": {"programme_id": "$response.body#/id"},
        },
    },
    ("post", "/providers"): {
        name: {
            "operationId": operation,
            "parameters": {"provider_id": "$response.body#/id"},
        }
        for name, operation in (
            ("GetProvider", "get_providers_provider_id"),
            ("ApproveProvider", "post_providers_provider_id_approve"),
            ("SuspendProvider", "post_providers_provider_id_suspend"),
        )
    },
    ("post", "/programmes/{programme_id}/vouchers"): {
        "GetVoucher": {
            "operationId": "get_vouchers_code",
            "parameters": {"code": "$response.body#/code"},
        },
        "RevokeVoucher": {
            "operationId": "post_vouchers_code_revoke",
            "parameters": {"code": "$response.body#/code"},
        },
        "GetEntrepreneur": {
            "operationId": "get_entrepreneurs_entrepreneur_id",
            "parameters": {"entrepreneur_id": "$response.body#/entrepreneur_id"},
        },
    },
    ("post", "/payouts"): {
        "GetPayoutRun": {
            "operationId": "get_payouts_run_id",
            "parameters": {"run_id": "$response.body#/id"},
        },
    },
}


# Rules of a whole body that its fields' declarations do not carry.
SCHEMA_RULES: dict[str, dict[str, Any]] = {
    "EntrepreneurChangeIn": {"minProperties": 1},  # a trade, a region or both
}


def operation_id(method: str, path: str) -> str:
    words = [part.strip("{}") for part in path.split("/") if part]
    return "_".join([method, *words])


def build_spec() -> dict[str, Any]:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Ujuzi API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[plugin],
        info={
            "description": "Training vouchers: programmes, providers, vouchers, "
            "sessions, payouts and statistics. Send "
            "`Authorization: Bearer <key>`."
        },
    )
    assert plugin.converter is not None
    plugin.converter.add_attribute_function(_as_configured)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=s.ErrorSchema)
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, roles, body, response, status, query in ROUTES:
        op: dict[str, Any] = {
            "operationId": operation_id(method, path),
            "summary": summary,
            "description": f"Roles: {roles}.",
            "security": [{"bearer": []}],
            "responses": {},
        }
        params = [
            {
                "in": "path",
                "name": name,
                "required": True,
                "schema": (
                    {"type": "integer", "maximum": MAX_ID}
                    if name in _INT_PARAMS
                    else {"type": "string"}
                ),
            }
            for name in _path_params(path)
        ]
        if query is not None:
            params.append({"in": "query", "schema": query})
        if params:
            op["parameters"] = params
        if body == "csv":
            op["requestBody"] = {
                "required": True,
                "description": _CSV_BODY,
                "content": {
                    "text/csv": {
                        "schema": {"type": "string", "minLength": 1, "example": _CSV_EXAMPLE}
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "format": "binary", "minLength": 1}
                            },
                        }
                    },
                },
            }
        elif body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        if response == "csv":
            ok: dict[str, Any] = {
                "description": "CSV",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        elif response is not None:
            description = "Created" if status == 201 else "OK"
            ok = {"description": description, "content": {"application/json": {"schema": response}}}
        else:
            ok = {
                "description": "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        op["responses"][str(status)] = ok
        if (method, path) in ALSO_ANSWERS:
            other, when = ALSO_ANSWERS[(method, path)]
            op["responses"][str(other)] = {**ok, "description": when}
        err = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in ("400", "401", "403", "404", "409", "422"):
            op["responses"][code] = err
        if body is not None:
            op["responses"]["413"] = {**err, "description": TOO_LARGE}
        if (method, path) in LINKS:
            op["responses"][str(status)]["links"] = LINKS[(method, path)]
        paths.setdefault(path, {})[method] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    doc = spec.to_dict()
    for name, extra in SCHEMA_RULES.items():
        doc["components"]["schemas"][name].update(extra)
    doc["servers"] = [{"url": "/api/v1"}]
    return doc


_CSV_BODY = (
    "UTF-8 CSV, a header line then one row per voucher: "
    "`phone,name,gender,birth_year,trade,region[,language][,ref]`. Each row is checked on its "
    "own (the same rules as issuing one voucher, and the programme's trades and regions); a 422 "
    "`invalid_rows` when no row could be issued names every bad row and why."
)
_CSV_EXAMPLE = (
    "phone,name,gender,birth_year,trade,region,language,ref\n"
    "+254712123456,Amina Wanjiru,female,1994,tailoring,nairobi,en,row-1\n"
)


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(build_spec())
