"""Control characters (NUL above all, which PostgreSQL refuses to store) at every edge: each edge
refuses them with its channel's own answer, or cleans them where refusing would lose a message.

The sweep runs every edge with each character of the family; on PostgreSQL it is the proof that
no edge answers 500 any more.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain import text
from marketplace.domain.models import (
    Entrepreneur,
    InboundSms,
    OutboxMessage,
    Provider,
    TrainingSession,
    UssdSession,
)
from marketplace.extensions import db
from tests.builders import Builders, next_phone

from .conftest import Web

SECRET = "test-callback-secret"
FORM = "application/x-www-form-urlencoded"

# NUL, escape (C0), and a C1 control (NEL); `domain.text`'s own tests cover every code point
FAMILY = ["\x00", "\x1b", "\x85"]


def _json(response: Any) -> dict[str, Any]:
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    return json.loads(response.get_data(as_text=True))


def _api_refuses(response: Any, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    error = _json(response)["error"]
    assert set(error) >= {"code", "message"}
    assert field in json.dumps(error), error


def _page_says_it(response: Any) -> None:
    assert response.status_code in (401, 422), response.status_code
    assert response.mimetype == "text/html"
    assert "control characters" in response.get_data(as_text=True) or response.status_code == 401


# --------------------------------------------------------------------------- the API


def api_issue_voucher(client: FlaskClient, build: Builders, bad: str) -> None:
    programme = build.programme()
    body = {
        "phone": next_phone(),
        "name": f"Amina{bad}Wanjiru",
        "gender": "female",
        "birth_year": 1990,
        "trade": "tailoring",
        "region": "nairobi",
    }
    response = client.post(
        f"/api/v1/programmes/{programme.id}/vouchers", json=body, headers=_key(build)
    )
    _api_refuses(response, "name")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entrepreneur)) == 0


def api_register_provider(client: FlaskClient, build: Builders, bad: str) -> None:
    body = {
        "kind": "craft_worker",
        "name": "Fundi Juma",
        "phone": next_phone(),
        "trades": ["tailoring"],
        "region": "nairobi",
        "town": f"Gik{bad}omba",
        "capacity": 3,
    }
    response = client.post("/api/v1/providers", json=body, headers=_key(build))
    _api_refuses(response, "town")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Provider)) == 0


def api_create_programme(client: FlaskClient, build: Builders, bad: str) -> None:
    body = {
        "name": "Tailors",
        "funder": f"Skills{bad}Fund",
        "currency": "KES",
        "voucher_value_minor": 1000,
        "sessions_per_voucher": 2,
        "validity_days": 30,
        "budget_minor": 10000,
    }
    _api_refuses(client.post("/api/v1/programmes", json=body, headers=_key(build)), "funder")


def api_csv_import(client: FlaskClient, build: Builders, bad: str) -> None:
    programme = build.programme()
    csv = (
        "phone,name,gender,birth_year,trade,region\n"
        f"{next_phone()},Amina{bad}Wanjiru,female,1990,tailoring,nairobi\n"
    )
    response = client.post(
        f"/api/v1/programmes/{programme.id}/vouchers/import",
        data=csv.encode(),
        content_type="text/csv",
        headers=_key(build),
    )
    assert response.status_code == 422
    rows = _json(response)["error"]["details"]["rows"]
    assert rows == [{"line": 2, "field": "name", "reason": text.MESSAGE}]


def api_provider_filters(client: FlaskClient, build: Builders, bad: str) -> None:
    for name in ("region", "trade"):
        response = client.get(
            "/api/v1/providers", query_string={name: f"nai{bad}robi"}, headers=_key(build)
        )
        _api_refuses(response, name)


def api_revoke_and_review(client: FlaskClient, build: Builders, bad: str) -> None:
    voucher = build.voucher()
    response = client.post(
        f"/api/v1/vouchers/{voucher.code}/revoke",
        json={"reason": f"moved{bad}"},
        headers=_key(build),
    )
    _api_refuses(response, "reason")


def _key(build: Builders) -> dict[str, str]:
    return {"Authorization": f"Bearer {build.api_key('admin')}"}


# --------------------------------------------------------------------------- the pages


def _signed_in_officer(client: FlaskClient, build: Builders) -> Web:
    web = Web(client)
    user = build.staff_user()
    assert web.staff_signin(user.email).status_code == 302
    return web


def page_csv_import(client: FlaskClient, build: Builders, bad: str) -> None:
    web = _signed_in_officer(client, build)
    programme = build.programme()
    csv = (
        "phone,name,gender,birth_year,trade,region\n"
        f"{next_phone()},Amina Wanjiru,female,1990,tail{bad}oring,nairobi\n"
    )
    response = web.post(
        "/admin/vouchers/import",
        {"programme_id": str(programme.id), "file": (io.BytesIO(csv.encode()), "people.csv")},
        token_from="/admin/vouchers",
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "control characters" in response.get_data(as_text=True)


def page_issue_voucher(client: FlaskClient, build: Builders, bad: str) -> None:
    web = _signed_in_officer(client, build)
    programme = build.programme()
    form = {
        "programme_id": str(programme.id),
        "phone": next_phone(),
        "name": f"Amina{bad}Wanjiru",
        "gender": "female",
        "birth_year": "1990",
        "trade": "tailoring",
        "region": "nairobi",
        "language": "en",
    }
    _page_says_it(web.post("/admin/vouchers", form))


def page_register_provider(client: FlaskClient, build: Builders, bad: str) -> None:
    web = _signed_in_officer(client, build)
    form = {
        "kind": "craft_worker",
        "name": "Fundi Juma",
        "phone": next_phone(),
        "trades": "tailoring",
        "region": "nairobi",
        "town": f"Gik{bad}omba",
        "capacity": "3",
        "contact_name": "",
        "language": "en",
    }
    _page_says_it(web.post("/admin/providers", form))


def page_provider_search(client: FlaskClient, build: Builders, bad: str) -> None:
    _signed_in_officer(client, build)
    for query in ({"q": f"Fun{bad}di"}, {"status": f"pend{bad}ing"}):
        assert client.get("/admin/providers", query_string=query).status_code == 200


def page_payouts(client: FlaskClient, build: Builders, bad: str) -> None:
    web = _signed_in_officer(client, build)
    response = web.post("/admin/payouts", {"currency": f"K{bad}S", "period_end": "2025-01-01"})
    assert response.status_code == 422


def page_mentor_record(client: FlaskClient, build: Builders, bad: str) -> None:
    booking = build.booking()
    web = Web(client)
    web.mentor_of(db.session.get(Provider, booking.provider_id))  # type: ignore[arg-type]
    page = f"/mentor/bookings/{booking.id}/record"
    for field in ("topic", "outcomes", "action_points"):
        form = {
            "delivered_on": "",
            "duration_minutes": "60",
            "topic": "Cutting",
            "outcomes": "",
            "action_points": "",
        }
        form["delivered_on"] = _today()
        form[field] = f"Cut{bad}ting"
        response = web.post(page, form)
        _page_says_it(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingSession)) == 0


def page_staff_signin(client: FlaskClient, build: Builders, bad: str) -> None:
    user = build.staff_user()
    email = user.email.replace("@", f"{bad}@")
    response = Web(client).staff_signin(email)
    assert response.status_code == 401 and response.mimetype == "text/html"
    assert "not match" in response.get_data(as_text=True) or "password" in response.get_data(
        as_text=True
    )


def page_funder_filters(client: FlaskClient, build: Builders, bad: str) -> None:
    programme = build.programme(funder="Skills Fund")
    user = build.staff_user("funder", funder="Skills Fund")
    assert Web(client).staff_signin(user.email).status_code == 302
    response = client.get(f"/funder/programmes/{programme.id}", query_string={"region": bad})
    assert response.status_code in (200, 422)
    assert response.mimetype == "text/html"


def _today() -> str:
    from tests.builders import today

    return today().strftime("%d/%m/%Y")


# --------------------------------------------------------------------------- the gateway


def _gateway(client: FlaskClient, path: str, form: dict[str, str]) -> Any:
    return client.post(f"/at/{SECRET}/{path}", data=urlencode(form), content_type=FORM)


def sms_inbound(client: FlaskClient, build: Builders, bad: str) -> None:
    voucher = build.voucher()
    phone = voucher.entrepreneur.phone
    response = _gateway(
        client,
        "sms/inbound",
        {"id": "ATXid_nul", "from": phone, "to": "20880", "text": f"BAL{bad}", "date": "x"},
    )
    assert response.status_code == 200 and response.mimetype == "text/plain"
    db.session.rollback()
    stored = db.session.scalars(sa.select(InboundSms)).one()
    assert stored.text == "BAL"
    replies = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.to_phone == phone)
    ).all()
    assert len(replies) >= 2, replies  # the voucher's notice, and the answer to this SMS


def sms_delivery(client: FlaskClient, build: Builders, bad: str) -> None:
    response = _gateway(
        client,
        "sms/delivery",
        {"id": f"ATXid{bad}1", "status": f"Suc{bad}cess", "failureReason": f"x{bad}"},
    )
    assert response.status_code == 200 and response.mimetype == "text/plain"


def ussd_hop(client: FlaskClient, build: Builders, bad: str) -> None:
    phone = build.voucher().entrepreneur.phone
    form = {
        "sessionId": f"ATUid{bad}1",
        "serviceCode": "*384*1234#",
        "phoneNumber": phone,
        "text": f"1{bad}",
    }
    response = _gateway(client, "ussd", form)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith(("CON ", "END "))


def ussd_event(client: FlaskClient, build: Builders, bad: str) -> None:
    form = {"sessionId": f"ATUid{bad}2", "status": f"Fail{bad}ed", "errorMessage": f"e{bad}"}
    response = _gateway(client, "ussd/events", form)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    db.session.rollback()
    assert db.session.scalar(sa.select(UssdSession.ended_status)) == "Failed"


EDGES: list[Callable[[FlaskClient, Builders, str], None]] = [
    api_issue_voucher,
    api_register_provider,
    api_create_programme,
    api_csv_import,
    api_provider_filters,
    api_revoke_and_review,
    page_csv_import,
    page_issue_voucher,
    page_register_provider,
    page_provider_search,
    page_payouts,
    page_mentor_record,
    page_staff_signin,
    page_funder_filters,
    sms_inbound,
    sms_delivery,
    ussd_hop,
    ussd_event,
]


@pytest.mark.parametrize("bad", FAMILY, ids=[f"U+{ord(c):04X}" for c in FAMILY])
@pytest.mark.parametrize("edge", EDGES, ids=[e.__name__ for e in EDGES])
def test_control_characters_are_refused_or_cleaned_at_every_edge_never_a_server_error(
    app: Any, client: FlaskClient, build: Builders, edge: Callable[..., None], bad: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a failure shows as the 500 a client would get
    try:
        edge(client, build, bad)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
