"""A programme's eligible trades and regions hold for people already registered: eligibility is
judged on the person the voucher will belong to, on every issuance path (the service, the API's
single issue and CSV import, the officer's pages); a row that says otherwise is reported with its
reason, and changing a person's trade or region is an officer's own audited step."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain import errors
from marketplace.domain.models import AuditEvent, Entrepreneur, Programme, Voucher
from marketplace.extensions import db
from marketplace.services import entrepreneurs, issuance
from tests.api.test_bad_input import API, assert_error, nothing_written
from tests.builders import Builders, next_phone
from tests.web.conftest import Web, csrf_from

HEADER = "phone,name,gender,birth_year,trade,region,language"


@pytest.fixture
def tailor_in_mombasa(build: Builders) -> str:
    """A tailor in Mombasa, registered through a tailoring programme; their phone."""
    phone = next_phone()
    build.voucher(
        build.programme(eligible_trades=["tailoring"], eligible_regions=["mombasa"]),
        phone=phone,
        trade="tailoring",
        region="mombasa",
    )
    return phone


@pytest.fixture
def carpentry_in_nairobi(build: Builders) -> Programme:
    return build.programme(eligible_trades=["carpentry"], eligible_regions=["nairobi"])


@pytest.fixture
def admin(build: Builders) -> dict[str, str]:
    return {"Authorization": f"Bearer {build.api_key('admin')}"}


def _committed(programme: Programme) -> int:
    db.session.expire_all()
    return db.session.get(Programme, programme.id).committed_minor  # type: ignore[union-attr]


def _vouchers_of(programme: Programme) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Voucher)
            .where(Voucher.programme_id == programme.id)
        )
        or 0
    )


def _body(phone: str, trade: str = "carpentry", region: str = "nairobi") -> dict[str, Any]:
    return {
        "phone": phone,
        "name": "Amina Wanjiru",
        "gender": "female",
        "birth_year": 1994,
        "trade": trade,
        "region": region,
    }


def _csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def _row(phone: str, trade: str = "carpentry", region: str = "nairobi") -> str:
    return f"{phone},Amina Wanjiru,female,1994,{trade},{region},en"


# --------------------------------------------------------------------------- the service


def test_a_registered_tailor_in_mombasa_is_not_issued_a_carpentry_nairobi_voucher(
    build: Builders, tailor_in_mombasa: str, carpentry_in_nairobi: Programme
) -> None:
    with pytest.raises(errors.NotEligible) as refused:
        issuance.issue_voucher(
            carpentry_in_nairobi.id, build.person(phone=tailor_in_mombasa, trade="carpentry"), "o"
        )

    assert "registered as Tailoring in Mombasa" in refused.value.message
    assert "which this programme does not cover" in refused.value.message
    assert _committed(carpentry_in_nairobi) == 0
    assert _vouchers_of(carpentry_in_nairobi) == 0


def test_a_row_that_gives_a_registered_person_another_trade_is_reported_not_issued(
    build: Builders, tailor_in_mombasa: str
) -> None:
    everyone = build.programme()  # covers every trade and region

    with pytest.raises(errors.RegisteredDifferently) as refused:
        issuance.issue_voucher(everyone.id, build.person(phone=tailor_in_mombasa), "o")

    assert refused.value.message.startswith(
        "The person with this phone is registered as Tailoring in Mombasa, not Tailoring in Nairobi"
    )
    assert refused.value.context["field"] == "region"
    assert _committed(everyone) == 0


def test_a_registered_person_whose_row_agrees_is_issued_a_voucher(
    build: Builders, tailor_in_mombasa: str
) -> None:
    everyone = build.programme()
    voucher = issuance.issue_voucher(
        everyone.id,
        build.person(phone=tailor_in_mombasa, trade="tailoring", region="mombasa"),
        "o",
    )
    assert voucher.entrepreneur.phone == tailor_in_mombasa


# --------------------------------------------------------------------------- the API


def test_the_api_refuses_the_voucher_with_the_one_error_shape_and_commits_no_budget(
    client: FlaskClient,
    admin: dict[str, str],
    tailor_in_mombasa: str,
    carpentry_in_nairobi: Programme,
) -> None:
    with nothing_written():
        answer = client.post(
            f"{API}/programmes/{carpentry_in_nairobi.id}/vouchers",
            json=_body(tailor_in_mombasa),
            headers=admin,
        )

    error = assert_error(answer, 422, "not_eligible")
    assert "registered as Tailoring in Mombasa" in error["message"]
    assert set(error["details"]) == {"trade"}
    assert _committed(carpentry_in_nairobi) == 0


def test_a_csv_import_reports_the_ineligible_registered_person_and_issues_the_rest(
    client: FlaskClient,
    admin: dict[str, str],
    tailor_in_mombasa: str,
    carpentry_in_nairobi: Programme,
) -> None:
    data = _csv(_row(next_phone()), _row(tailor_in_mombasa), _row(next_phone()))

    answer = client.post(
        f"{API}/programmes/{carpentry_in_nairobi.id}/vouchers/import",
        data=data,
        headers={**admin, "Content-Type": "text/csv"},
    )

    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["issued_count"] == 2
    [row] = body["errors"]
    assert row["line"] == 3
    assert row["field"] == "trade"
    assert row["reason"].startswith(
        "The person with this phone is registered as Tailoring in Mombasa (the row says"
        " Carpentry in Nairobi), which this programme does not cover."
    )
    assert _committed(carpentry_in_nairobi) == 2 * carpentry_in_nairobi.voucher_value_minor
    assert _vouchers_of(carpentry_in_nairobi) == 2


def test_a_csv_import_of_only_ineligible_people_issues_nothing_and_says_why(
    client: FlaskClient,
    admin: dict[str, str],
    tailor_in_mombasa: str,
    carpentry_in_nairobi: Programme,
) -> None:
    with nothing_written():
        answer = client.post(
            f"{API}/programmes/{carpentry_in_nairobi.id}/vouchers/import",
            data=_csv(_row(tailor_in_mombasa)),
            headers={**admin, "Content-Type": "text/csv"},
        )

    error = assert_error(answer, 422, "invalid_rows")
    [row] = error["details"]["rows"]
    assert "registered as Tailoring in Mombasa" in row["reason"]


def test_a_file_that_registers_a_new_phone_twice_with_different_trades_issues_the_first_only(
    build: Builders,
) -> None:
    everyone = build.programme()
    phone = next_phone()

    report = issuance.import_vouchers(
        everyone.id, _csv(_row(phone, "tailoring"), _row(phone, "carpentry")), "o"
    )

    assert [r.line for r in report.issued] == [2]
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (3, "trade", "registered_differently")
    ]
    assert report.errors[0].reason == (
        "Line 2 registers this phone as Tailoring in Nairobi, not Carpentry in Nairobi."
    )


# --------------------------------------------------------------------------- the officer's pages


def _officer(web: Web, build: Builders) -> None:
    user = build.staff_user("admin")
    assert web.staff_signin(user.email).location == "/admin"


def test_the_officers_pages_report_the_ineligible_person_on_the_form_and_in_the_upload(
    client: FlaskClient,
    build: Builders,
    tailor_in_mombasa: str,
    carpentry_in_nairobi: Programme,
) -> None:
    web = Web(client)
    _officer(web, build)

    form = web.post(
        "/admin/vouchers",
        {
            "programme_id": str(carpentry_in_nairobi.id),
            "language": "en",
            **_body(tailor_in_mombasa),
        },
    )
    upload = client.post(
        "/admin/vouchers/import",
        data={
            "csrf_token": csrf_from(client, "/admin/vouchers"),
            "programme_id": str(carpentry_in_nairobi.id),
            "file": (BytesIO(_csv(_row(tailor_in_mombasa))), "cohort.csv"),
        },
        content_type="multipart/form-data",
    )

    assert form.status_code == 422
    assert "registered as Tailoring in Mombasa" in form.get_data(as_text=True)
    page = upload.get_data(as_text=True)
    assert re.search(r'id="issued-count">0<', page)
    assert "registered as Tailoring in Mombasa" in page
    assert _vouchers_of(carpentry_in_nairobi) == 0


# --------------------------------------------------------------------------- the officer's change


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_an_officer_changes_the_persons_trade_and_region_as_an_audited_step_then_issues(
    client: FlaskClient,
    admin: dict[str, str],
    build: Builders,
    carpentry_in_nairobi: Programme,
) -> None:
    phone = next_phone()
    build.voucher(build.programme(), phone=phone, trade="tailoring", region="mombasa")
    person = db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == phone))
    assert person is not None

    changed = client.patch(
        f"{API}/entrepreneurs/{person.id}",
        json={"trade": "Carpenter", "region": "nairobi"},
        headers=admin,
    )
    issued = client.post(
        f"{API}/programmes/{carpentry_in_nairobi.id}/vouchers", json=_body(phone), headers=admin
    )

    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.get_json()["trade"], changed.get_json()["region"]) == ("carpentry", "nairobi")
    [event] = _events("entrepreneur.trade_region_changed")
    assert (event.before, event.after) == (
        {"trade": "tailoring", "region": "mombasa"},
        {"trade": "carpentry", "region": "nairobi"},
    )
    assert event.actor.startswith("api:")
    assert issued.status_code == 201, issued.get_data(as_text=True)


def test_a_change_that_a_held_voucher_would_not_cover_is_refused(
    client: FlaskClient, admin: dict[str, str], tailor_in_mombasa: str
) -> None:
    person = db.session.scalar(
        sa.select(Entrepreneur).where(Entrepreneur.phone == tailor_in_mombasa)
    )
    assert person is not None

    with nothing_written():
        answer = client.patch(
            f"{API}/entrepreneurs/{person.id}", json={"trade": "carpentry"}, headers=admin
        )

    error = assert_error(answer, 422, "not_eligible")
    assert "revoke it first" in error["message"]
    assert _events("entrepreneur.trade_region_changed") == []


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"trade": "zzzq xqzz"}, 422), ({"region": ""}, 422)],
)
def test_a_change_without_a_known_trade_or_region_is_refused(
    client: FlaskClient, admin: dict[str, str], tailor_in_mombasa: str, body: Any, status: int
) -> None:
    person = db.session.scalar(
        sa.select(Entrepreneur).where(Entrepreneur.phone == tailor_in_mombasa)
    )
    assert person is not None
    assert_error(client.patch(f"{API}/entrepreneurs/{person.id}", json=body, headers=admin), status)
    assert_error(
        client.patch(f"{API}/entrepreneurs/999999", json={"trade": "x"}, headers=admin), 404
    )


def test_the_change_service_names_the_step_it_records(build: Builders) -> None:
    phone = next_phone()
    build.voucher(build.programme(), phone=phone)
    person = db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == phone))
    assert person is not None

    entrepreneurs.change_trade_region(person.id, "officer:3", region="kisumu")

    [event] = _events("entrepreneur.trade_region_changed")
    assert (event.actor, event.after) == ("officer:3", {"trade": "tailoring", "region": "kisumu"})
