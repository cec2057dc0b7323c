"""Issuing vouchers from CSV through the API: bad files and bad rows, and sending a file again."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.domain.models import Entrepreneur, OutboxMessage, Programme, Voucher
from marketplace.extensions import db
from tests.api.test_bad_input import API, assert_error, nothing_written
from tests.builders import Builders

HEADER = "phone,name,gender,birth_year,trade,region,language"


@pytest.fixture
def admin(build: Builders) -> dict[str, str]:
    return {"Authorization": f"Bearer {build.api_key('admin')}"}


@pytest.fixture
def programme(build: Builders) -> Programme:
    return build.programme(voucher_value_minor=400_000, budget_minor=400_000 * 2000)


def _rows(n: int, start: int = 0) -> list[str]:
    return [
        f"07{20_000_000 + start + i:08d},Trainee {i},female,1990,tailoring,nairobi,en"
        for i in range(n)
    ]


def _csv(lines: list[str], header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def _post(client: FlaskClient, programme_id: int, data: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        f"{API}/programmes/{programme_id}/vouchers/import",
        data=data,
        headers={**headers, "Content-Type": "text/csv"},
    )


def _count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_one_broken_row_among_a_thousand_is_reported_by_line_and_the_rest_issued(
    client: FlaskClient, admin: dict[str, str], programme: Programme
) -> None:
    lines = _rows(1000)
    lines[499] = "0711,Broken Phone,female,1990,tailoring,nairobi,en"  # file line 501
    data = _csv(lines)

    response = _post(client, programme.id, data, admin)

    assert response.status_code == 201
    report = response.get_json()
    assert report["issued_count"] == 999
    assert report["errors"] == [
        {"line": 501, "field": "phone", "reason": "Enter a valid phone number."}
    ]
    assert _count(Voucher) == 999
    assert _count(OutboxMessage) == 999
    assert (
        db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.name == "Broken Phone"))
        is None
    )
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).committed_minor == 999 * 400_000

    # The same file again issues nothing twice and reports the same bad row.
    with nothing_written():
        again = _post(client, programme.id, data, admin)
    assert_error(again, 422, "invalid_rows")
    details = again.get_json()["error"]["details"]
    assert details["rows"] == [
        {"line": 501, "field": "phone", "reason": "Enter a valid phone number."}
    ]
    assert len(details["already_issued_lines"]) == 999

    # Once corrected, only the corrected row is issued.
    lines[499] = "0729999999,Fixed Phone,female,1990,tailoring,nairobi,en"
    fixed = _post(client, programme.id, _csv(lines), admin)
    assert fixed.status_code == 201
    assert fixed.get_json()["issued_count"] == 1
    assert fixed.get_json()["already_issued_count"] == 999
    assert _count(Voucher) == 1000


def test_sending_a_good_file_again_issues_nothing_and_says_so(
    client: FlaskClient, admin: dict[str, str], programme: Programme
) -> None:
    data = _csv(_rows(50))
    assert _post(client, programme.id, data, admin).status_code == 201

    with nothing_written():
        again = _post(client, programme.id, data, admin)

    assert again.status_code == 200
    assert again.get_json()["issued_count"] == 0
    assert again.get_json()["already_issued_count"] == 50


def test_a_file_uploaded_as_a_form_field_is_read_like_a_body(
    client: FlaskClient, admin: dict[str, str], programme: Programme
) -> None:
    import io

    response = client.post(
        f"{API}/programmes/{programme.id}/vouchers/import",
        headers=admin,
        data={"file": (io.BytesIO(_csv(_rows(3))), "list.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert response.get_json()["issued_count"] == 3


def test_a_spreadsheet_saved_in_windows_encoding_is_read_with_its_accents(
    client: FlaskClient, admin: dict[str, str], programme: Programme
) -> None:
    data = (HEADER + "\n0722000333,Renée Akinyi,female,1991,tailoring,nairobi,en\n").encode(
        "cp1252"
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    response = _post(client, programme.id, data, admin)

    assert response.status_code == 201
    assert db.session.scalar(sa.select(Entrepreneur.name)) == "Renée Akinyi"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Send the CSV"),
        (b"\n\n", "missing columns"),
        (HEADER.encode() + b"\n", "no rows"),
        (HEADER.encode(), "no rows"),
        (b"phone,name\n0722000444,Someone\n", "missing columns"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "missing columns"),
        ("phone,name".encode("utf-16"), "missing columns"),
    ],
    ids=[
        "empty",
        "blank lines",
        "header only",
        "header without newline",
        "missing columns",
        "an image",
        "utf-16",
    ],
)
def test_a_file_that_is_not_a_voucher_list_is_refused_and_writes_nothing(
    client: FlaskClient, admin: dict[str, str], programme: Programme, data: bytes, message: str
) -> None:
    with nothing_written():
        error = assert_error(_post(client, programme.id, data, admin), 422)
    assert message.lower() in error["message"].lower()


def test_a_file_whose_every_row_is_bad_issues_nothing_and_names_each_line(
    client: FlaskClient, admin: dict[str, str], programme: Programme
) -> None:
    lines = [
        "0722000555,,female,1990,tailoring,nairobi,en",
        "0722000556,Too Young,female,2020,tailoring,nairobi,en",
        "0722000557,No Trade,female,1990,astrophysics,nairobi,en",
        "0722000558,Somewhere,female,1990,tailoring,atlantis,en",
        "0722000559,Extra,female,1990,tailoring,nairobi,en,surplus",
        "0722000560," + "N" * 300 + ",female,1990,tailoring,nairobi,en",
        "0722000561,Bad Year,female,nineteen ninety,tailoring,nairobi,en",
        "0722000562,Odd Gender,unknown,1990,tailoring,nairobi,en",
        '"0722000563,Open Quote,female,1990,tailoring,nairobi,en',
    ]
    with nothing_written():
        error = assert_error(_post(client, programme.id, _csv(lines), admin), 422, "invalid_rows")
    lines_reported = [row["line"] for row in error["details"]["rows"]]
    assert lines_reported[:8] == list(range(2, 10))
    fields = {row["line"]: row["field"] for row in error["details"]["rows"]}
    assert fields[2] == "name" and fields[3] == "birth_year" and fields[4] == "trade"
    assert fields[5] == "region" and fields[7] == "name" and fields[9] == "gender"


def test_a_file_over_the_size_limit_is_refused(
    client: FlaskClient, admin: dict[str, str], programme: Programme
) -> None:
    big = _csv(["0722000777,Name,female,1990,tailoring,nairobi,en"]) + b"x" * (17 * 1024 * 1024)
    with nothing_written():
        assert_error(_post(client, programme.id, big, admin), 413)


def test_a_file_for_an_unknown_programme_is_refused(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    with nothing_written():
        assert_error(_post(client, 999_999, _csv(_rows(2)), admin), 404)


def test_a_file_larger_than_the_budget_issues_what_fits_and_reports_the_rest(
    client: FlaskClient, admin: dict[str, str], build: Builders
) -> None:
    small = build.programme(voucher_value_minor=400_000, budget_minor=3 * 400_000)

    response = _post(client, small.id, _csv(_rows(5)), admin)

    assert response.status_code == 201
    report = response.get_json()
    assert report["issued_count"] == 3
    assert [e["line"] for e in report["errors"]] == [5, 6]
    assert all("over budget" in e["reason"] for e in report["errors"])
    db.session.expire_all()
    programme = db.session.get(Programme, small.id)
    assert programme.committed_minor == programme.budget_minor


def test_a_ref_given_twice_in_one_file_issues_one_voucher_and_reports_the_second_line(
    client: FlaskClient, admin: dict[str, str], programme: Programme
) -> None:
    header = "phone,name,gender,birth_year,trade,region,ref"
    data = _csv(
        [
            "0720000001,Amina Wanjiru,female,1990,tailoring,nairobi,APP-1",
            "0720000002,Baraka Otieno,male,1991,tailoring,nairobi,APP-1",
            "0720000003,Chebet Kirui,female,1992,tailoring,nairobi,APP-2",
        ],
        header,
    )

    body = _post(client, programme.id, data, admin).get_json()

    assert body["issued_count"] == 2
    assert body["errors"] == [
        {"line": 3, "field": "ref", "reason": "ref APP-1 is already on line 2"}
    ]
    assert _count(Voucher) == 2
