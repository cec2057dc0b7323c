"""A CSV issuance tells the whole truth: a row repeated word for word is reported (not issued
twice), a row past the budget says what is really left, and a number of another country is
refused with its reason."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.domain import errors
from marketplace.domain.models import Programme, Voucher
from marketplace.extensions import db
from marketplace.services import issuance
from tests.builders import Builders

HEADER = "phone,name,gender,birth_year,trade,region,language"


def _csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _vouchers(programme_id: int) -> int:
    return int(
        db.session.scalar(sa.select(sa.func.count()).where(Voucher.programme_id == programme_id))
        or 0
    )


def test_two_identical_rows_without_ref_issue_one_voucher_and_report_the_second(
    build: Builders,
) -> None:
    programme = build.programme()
    row = "0722300001,Amina Wanjiru,female,1990,tailoring,nairobi,en"

    report = issuance.import_vouchers(
        programme.id, _csv(row, "0722300002,Baraka O,male,1988,tailoring,nairobi,en", row), "o"
    )

    assert [r.line for r in report.issued] == [2, 3]
    assert [(e.line, e.code) for e in report.errors] == [(4, "repeated_row")]
    assert "the same as line 2" in report.errors[0].reason
    assert "ref" in report.errors[0].reason
    assert _vouchers(programme.id) == 2


def test_the_same_file_sent_again_still_issues_nothing_and_still_reports_the_repeat(
    build: Builders,
) -> None:
    programme = build.programme()
    row = "0722300011,Amina Wanjiru,female,1990,tailoring,nairobi,en"
    data = _csv(row, row)
    issuance.import_vouchers(programme.id, data, "o")

    again = issuance.import_vouchers(programme.id, data, "o")

    assert again.issued == []
    assert again.already_issued == [2]
    assert [e.line for e in again.errors] == [3]
    assert _vouchers(programme.id) == 1


def test_identical_people_with_a_ref_each_get_a_voucher_each(build: Builders) -> None:
    programme = build.programme()
    person = "0722300021,Amina Wanjiru,female,1990,tailoring,nairobi,en"

    report = issuance.import_vouchers(
        programme.id,
        _csv(f"{person},A-1", f"{person},A-2", header=HEADER + ",ref"),
        "o",
    )

    assert len(report.issued) == 2 and report.errors == []


def test_rows_past_the_budget_say_what_is_really_left(build: Builders) -> None:
    # 12,000 left, 5,000 a voucher: two vouchers issue and 2,000 is left, not 12,000.
    programme = build.programme(voucher_value_minor=500_000, budget_minor=1_200_000)
    rows = [f"07223001{i:02d},Trainee {i},female,1990,tailoring,nairobi,en" for i in range(4)]

    report = issuance.import_vouchers(programme.id, _csv(*rows), "o")

    assert len(report.issued) == 2
    assert [e.line for e in report.errors] == [4, 5]
    reason = report.errors[0].reason
    assert "KES 2,000" in reason and "12,000" not in reason
    assert "KES 5,000" in reason  # what one voucher costs, beside it
    db.session.expire_all()
    left = db.session.get(Programme, programme.id)
    assert left is not None and left.available_minor == 200_000


def test_a_single_voucher_past_the_budget_says_what_is_left(build: Builders) -> None:
    programme = build.programme(voucher_value_minor=500_000, budget_minor=500_000)
    build.voucher(programme)

    try:
        issuance.issue_voucher(programme.id, build.person(), "o")
    except errors.BudgetExceeded as exc:
        assert exc.message.startswith("over budget: KES 0 left"), exc.message
    else:
        raise AssertionError("issued past the budget")


def test_a_number_of_another_country_is_refused_with_its_reason(build: Builders) -> None:
    programme = build.programme()

    report = issuance.import_vouchers(
        programme.id,
        _csv(
            "+255712345678,Neema Mushi,female,1990,tailoring,nairobi,en",
            "0722300031,Amina Wanjiru,female,1990,tailoring,nairobi,en",
            "256712345678,Okello J,male,1990,tailoring,nairobi,en",
        ),
        "o",
    )

    assert [r.line for r in report.issued] == [3]
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (2, "phone", "foreign_number"),
        (4, "phone", "foreign_number"),
    ]
    assert "Tanzania" in report.errors[0].reason and "Kenya" in report.errors[0].reason
    assert "Uganda" in report.errors[1].reason


def test_one_voucher_for_a_number_of_another_country_is_refused(build: Builders) -> None:
    programme = build.programme()
    foreign = build.person(phone="+255712345678")

    try:
        issuance.issue_voucher(programme.id, foreign, "o")
    except errors.ForeignNumber as exc:
        assert exc.context["field"] == "phone"
    else:
        raise AssertionError("issued to a foreign number")
    assert _vouchers(programme.id) == 0
