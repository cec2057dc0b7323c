"""Issuing vouchers: one (the API, the admin page) or thousands from a CSV file, registering the
entrepreneurs who are new.

One issuance path serves both: rows are validated, rows already issued (same import key) are skipped,
the programme's budget is reserved with one conditional UPDATE under a row lock, and entrepreneurs,
vouchers, audit events and outbox SMS are written with set-based inserts in a single transaction.
A client's own reference (`ref`, in the API body or a CSV column) names one issuance: sent again,
nothing is issued twice.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from ..db import bulk, dialect
from ..domain import errors
from ..domain.base import utcnow
from ..domain.codes import format_voucher_code, new_voucher_code
from ..domain.models import (
    Entrepreneur,
    Programme,
    Voucher,
    VoucherStatus,
)
from ..domain.money import co_payment_share, format_minor
from ..domain.people import CleanEntrepreneur, NewEntrepreneur, validate
from ..domain.text import MESSAGE as CONTROL_CHARACTERS
from ..domain.text import has_control_characters
from ..extensions import db
from . import outbox, reference, settings, unit

CSV_COLUMNS = ("phone", "name", "gender", "birth_year", "trade", "region", "language")
MAX_CSV_ROWS = 200_000
MAX_FIELD = 200
CHUNK = 5000


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    field: str | None = None
    code: str = ""  # the domain error's code, when a rule refused the row


class IssuedRow(NamedTuple):
    line: int
    code: str
    phone: str


@dataclass
class ImportReport:
    issued: list[IssuedRow] = field(default_factory=list)
    already_issued: list[int] = field(default_factory=list)  # line numbers skipped as repeats
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Row(NamedTuple):
    line: int
    person: CleanEntrepreneur
    import_key: str


class _Registered(NamedTuple):
    """Someone already registered with a row's phone: the voucher will be theirs."""

    id: int
    language: str
    trade: str
    region: str


# Rules that refuse a row of a single issuance, by code (the rest is the budget's refusal).
_ROW_REFUSALS: dict[str, type[errors.DomainError]] = {
    errors.NotEligible.code: errors.NotEligible,
    errors.RegisteredDifferently.code: errors.RegisteredDifferently,
}


# --------------------------------------------------------------------------- issuance


def issue_voucher(
    programme_id: int,
    person: NewEntrepreneur,
    actor: str,
    now: datetime | None = None,
    import_key: str | None = None,
) -> Voucher:
    """Issue one voucher, registering the entrepreneur when new."""
    voucher = _issue_one(programme_id, person, actor, now, import_key or _single_key())
    if voucher is None:
        raise errors.AlreadyExists("This voucher was already issued.")
    return voucher


class Issued(NamedTuple):
    voucher: Voucher
    new: bool  # False: the voucher issued before under the same `ref`; nothing was issued now


def issue_voucher_for_ref(
    programme_id: int, person: NewEntrepreneur, actor: str, ref: str, now: datetime | None = None
) -> Issued:
    """Issue one voucher under the client's own reference `ref`, once: the same `ref` again (a
    request retried after a lost answer) gets the voucher issued then, and nothing is issued."""
    key = import_key_for_ref(ref)
    earlier = _issued_under(programme_id, key)
    if earlier is None:
        voucher = _issue_one(programme_id, person, actor, now, key)
        if voucher is not None:
            return Issued(voucher, True)
        earlier = _issued_under(programme_id, key)  # issued by the same request, just before
        assert earlier is not None
    return Issued(earlier, False)


def _issue_one(
    programme_id: int, person: NewEntrepreneur, actor: str, now: datetime | None, key: str
) -> Voucher | None:
    """The voucher issued now; None when one was issued under this key before."""
    with unit.of_work(actor, now) as uow:
        clean = validate(
            person,
            uow.now,
            trades=reference.trade_codes(),
            regions=reference.region_codes(),
            phone_region=settings.phone_region(),
        )
        programme = _programme(programme_id)
        _check_eligible(programme, clean)
        report = ImportReport()
        _issue_rows(uow, programme, [_Row(1, clean, key)], report)
        if report.errors:
            first = report.errors[0]
            refusal = _ROW_REFUSALS.get(first.code, errors.BudgetExceeded)
            raise refusal(first.reason, **({"field": first.field} if first.field else {}))
    if report.already_issued:
        return None
    return db.session.scalar(sa.select(Voucher).where(Voucher.code == report.issued[0].code))


def _issued_under(programme_id: int, import_key: str) -> Voucher | None:
    return db.session.scalar(
        sa.select(Voucher).where(
            Voucher.programme_id == programme_id, Voucher.import_key == import_key
        )
    )


def import_vouchers(
    programme_id: int, data: bytes | str, actor: str, now: datetime | None = None
) -> ImportReport:
    """Issue a voucher per good CSV row; report every bad row with its line number and reason.

    Sending the same file again issues nothing twice: each row has an import key (its `ref` column,
    or a digest of the person it names). Two identical rows without a ref are one voucher and a
    reported repeat, never two vouchers.
    """
    report = ImportReport()
    with _cyclic_gc_paused(), unit.of_work(actor, now) as uow:
        programme = _programme(programme_id)
        rows = _parse_csv(programme, data, uow.now, report)
        if not rows and not report.errors:
            raise errors.InvalidInput("The file has a header but no rows.")
        if rows:
            _issue_rows(uow, programme, rows, report)
    report.errors.sort(key=lambda e: e.line)
    return report


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A big file makes hundreds of thousands of small objects that live until the commit; the
    cyclic garbage collector would walk them again and again for nothing (they are freed by
    reference counting). Pause it for the import; it resumes, and catches up, afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _single_key() -> str:
    return hashlib.sha256(new_voucher_code().encode() + str(utcnow()).encode()).hexdigest()


def _programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise errors.NotFound("No such programme.")
    return programme


def _check_eligible(programme: Programme, person: CleanEntrepreneur) -> None:
    if not programme.accepts(person.trade, person.region):
        raise errors.NotEligible(
            "This programme does not cover that trade or region.",
            field=_ineligible_field(programme, person.trade),
        )


def _ineligible_field(programme: Programme, trade: str) -> str:
    return (
        "trade"
        if programme.eligible_trades and trade not in programme.eligible_trades
        else "region"
    )


def _in_words(trade: str, region: str) -> str:
    return f"{reference.trade_name(trade)} in {reference.region_name(region)}"


def _refusal_for_registered(
    programme: Programme, row: _Row, person: _Registered
) -> errors.DomainError | None:
    """Why a row may not issue a voucher to the person already registered with its phone: the
    programme does not cover *their* trade and region, or the row says they are someone else.
    (Changing a person's trade or region is an officer's own step: entrepreneurs.change_trade_region.)"""
    registered = _in_words(person.trade, person.region)
    differs = (row.person.trade, row.person.region) != (person.trade, person.region)
    field = "trade" if row.person.trade != person.trade else "region"
    if not programme.accepts(person.trade, person.region):
        said = (
            f" (the row says {_in_words(row.person.trade, row.person.region)})" if differs else ""
        )
        return errors.NotEligible(
            f"The person with this phone is registered as {registered}{said}, which this"
            " programme does not cover.",
            field=_ineligible_field(programme, person.trade),
        )
    if differs:
        return errors.RegisteredDifferently(
            f"The person with this phone is registered as {registered}, not"
            f" {_in_words(row.person.trade, row.person.region)}: correct the row, or change"
            " the person's trade or region first.",
            field=field,
        )
    return None


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise errors.InvalidInput("The file is not text (UTF-8 CSV expected).")


def _parse_csv(
    programme: Programme, data: bytes | str, now: datetime, report: ImportReport
) -> list[_Row]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise errors.InvalidInput("The file is empty.") from None
    except csv.Error as exc:
        raise errors.InvalidInput(f"Line 1: {exc}") from None
    missing = [c for c in CSV_COLUMNS if c not in header and c != "language"]
    if missing:
        raise errors.InvalidInput(f"Line 1: missing columns: {', '.join(missing)}")
    index = {name: header.index(name) for name in header}
    rows: list[_Row] = []
    refs: dict[str, int] = {}  # ref -> the line that holds it
    identical: dict[str, int] = {}  # a row without ref, as a key -> the first line that holds it
    names = _Names()
    line = 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = reader.line_num
            report.errors.append(RowError(line, f"unreadable row: {exc}"))
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        if len(rows) + len(report.errors) + len(report.already_issued) >= MAX_CSV_ROWS:
            raise errors.InvalidInput(f"The file has more than {MAX_CSV_ROWS} rows; split it.")
        if len(raw) != len(header):
            report.errors.append(
                RowError(line, f"expected {len(header)} columns, found {len(raw)}")
            )
            continue
        cells = {name: raw[i].strip() for name, i in index.items()}
        too_long = next((k for k, v in cells.items() if len(v) > MAX_FIELD), None)
        if too_long:
            report.errors.append(RowError(line, f"{too_long} is too long", too_long))
            continue
        unreadable = next((k for k, v in cells.items() if has_control_characters(v)), None)
        if unreadable:
            report.errors.append(RowError(line, CONTROL_CHARACTERS, unreadable))
            continue
        try:
            person = validate(
                _person_from_cells(cells, names),
                now,
                trades=names.trade_codes,
                regions=names.region_codes,
                phone_region=names.phone_region,
            )
            _check_eligible(programme, person)
        except errors.InvalidInput as exc:
            report.errors.append(RowError(line, exc.message, _field(exc), exc.code))
            continue
        ref = cells.get("ref", "")
        basis = _basis(cells, person)
        if not ref:
            # The same person twice, word for word: a slip (a row pasted twice) far more often
            # than a second voucher meant; a second voucher is asked for with a ref per row.
            first = identical.setdefault(basis, line)
            if first != line:
                report.errors.append(
                    RowError(
                        line,
                        f"the same as line {first}, which issues this person's voucher; to"
                        " issue them a second one, give each of the two rows its own ref",
                        code="repeated_row",
                    )
                )
                continue
        if ref:
            # A ref names one issuance: a second row with it is a mistake, never a second voucher.
            first = refs.setdefault(ref, line)
            if first != line:
                report.errors.append(RowError(line, f"ref {ref} is already on line {first}", "ref"))
                continue
        rows.append(_Row(line, person, _row_key(basis)))
    return rows


def _field(exc: errors.DomainError) -> str | None:
    value = exc.context.get("field")
    return str(value) if value is not None else None


class _Names:
    """Trade and region codes for what officers typed, worked out once per distinct spelling (and
    the phone numbers' default region, looked up once)."""

    def __init__(self) -> None:
        self.trade_codes = reference.trade_codes()
        self.region_codes = reference.region_codes()
        self.phone_region = settings.phone_region()
        self.trades: dict[str, str] = {}
        self.regions: dict[str, str] = {}

    def trade(self, text: str) -> str:
        if text in self.trade_codes:
            return text
        if text not in self.trades:
            self.trades[text] = reference.match_trade(text) or text
        return self.trades[text]

    def region(self, text: str) -> str:
        if text in self.region_codes:
            return text
        if text not in self.regions:
            self.regions[text] = reference.match_region(text) or text
        return self.regions[text]


def _person_from_cells(cells: dict[str, str], names: _Names) -> NewEntrepreneur:
    year_text = cells.get("birth_year", "")
    if not year_text.isdigit():
        raise errors.InvalidInput("Birth year must be a number like 1990.", field="birth_year")
    return NewEntrepreneur(
        phone=cells.get("phone", ""),
        name=cells.get("name", ""),
        gender=cells.get("gender", ""),
        birth_year=int(year_text),
        trade=names.trade(cells.get("trade", "")),
        region=names.region(cells.get("region", "")),
        language=cells.get("language") or "en",
    )


def import_key_for_ref(ref: str) -> str:
    """The import key of an issuance with the caller's own reference (API `ref`, CSV `ref`)."""
    return hashlib.sha256(f"ref:{ref}#0".encode()).hexdigest()


def _basis(cells: dict[str, str], person: CleanEntrepreneur) -> str:
    """What makes a row the row it is: its ref, or (without one) the person it names."""
    if cells.get("ref"):
        return "ref:" + cells["ref"]
    return "|".join(
        [
            person.phone,
            person.name.lower(),
            person.gender,
            str(person.birth_year),
            person.trade,
            person.region,
        ]
    )


def _row_key(basis: str) -> str:
    """A row's import key. (The `#0` is the count of identical rows before it, from when a file's
    identical rows each issued a voucher: keys issued then keep their meaning.)"""
    return hashlib.sha256(f"{basis}#0".encode()).hexdigest()


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _issue_rows(
    uow: unit.UnitOfWork, programme: Programme, rows: list[_Row], report: ImportReport
) -> None:
    """Issue the rows not issued before, as far as the budget goes; the others are reported."""
    now = uow.now
    session = db.session
    # Lock the programme: concurrent issuance for it queues here, so the budget check is exact.
    session.execute(sa.select(Programme.id).where(Programme.id == programme.id).with_for_update())
    session.refresh(programme)

    keys = [r.import_key for r in rows]
    existing: set[str] = set()
    for chunk in _chunks(keys):
        existing.update(
            session.scalars(
                sa.select(Voucher.import_key).where(
                    Voucher.programme_id == programme.id, dialect.any_of(Voucher.import_key, chunk)
                )
            )
        )
    fresh = [r for r in rows if r.import_key not in existing]
    report.already_issued.extend(r.line for r in rows if r.import_key in existing)

    # Eligibility is judged on the person each voucher will belong to: for a phone already
    # registered, on the registered trade and region (locked until the commit, so an officer's
    # change of them waits for this issuance, or this issuance for the change).
    registered = _registered(fresh)
    fresh = _judged(programme, fresh, registered, report)

    value = programme.voucher_value_minor
    affordable = max(programme.available_minor, 0) // value
    if len(fresh) > affordable:
        reason = _over_budget(programme, affordable)
        report.errors.extend(
            RowError(r.line, reason, code="budget_exceeded") for r in fresh[affordable:]
        )
        fresh = fresh[:affordable]
    if not fresh:
        return

    total = value * len(fresh)
    reserved = session.execute(
        sa.update(Programme)
        .where(
            Programme.id == programme.id,
            Programme.committed_minor + total <= Programme.budget_minor,
        )
        .values(committed_minor=Programme.committed_minor + total)
        .execution_options(synchronize_session=False)
    )
    if reserved.rowcount != 1:  # type: ignore[attr-defined]
        raise errors.BudgetExceeded()

    people = _entrepreneurs_for(uow, fresh, registered)
    codes = _fresh_codes(len(fresh))
    expires = now + timedelta(days=programme.validity_days)
    voucher_rows = [
        {
            "code": code,
            "programme_id": programme.id,
            "entrepreneur_id": people[r.person.phone][0],
            "status": VoucherStatus.ISSUED.value,
            "value_minor": value,
            "co_payment_minor": co_payment_share(value, programme.co_payment_percent),
            "currency": programme.currency,
            "sessions_total": programme.sessions_per_voucher,
            "sessions_confirmed": 0,
            "import_key": r.import_key,
            "issued_at": now,
            "expires_at": expires,
        }
        for r, code in zip(fresh, codes, strict=True)
    ]
    ids = bulk.insert_returning_ids(db.session(), bulk.table_of(Voucher), voucher_rows)

    issued_after = {"status": "issued", "programme_id": programme.id, "value_minor": value}
    uow.audit_many("voucher.issued", "voucher", [(i, None, issued_after) for i in ids])
    sms = _IssuedSms(programme, expires)
    uow.sms_many(
        [
            sms.row(r.person.phone, people[r.person.phone][1], code, now)
            for r, code in zip(fresh, codes, strict=True)
        ]
    )
    report.issued.extend(
        IssuedRow(r.line, code, r.person.phone) for r, code in zip(fresh, codes, strict=True)
    )


def _over_budget(programme: Programme, issuing: int) -> str:
    """Why a row past the budget is refused: what is left once the rows before it are issued
    (not what was left before them), beside what one voucher costs."""
    left = max(programme.available_minor - issuing * programme.voucher_value_minor, 0)
    shown = format_minor(left, programme.currency)
    value = format_minor(programme.voucher_value_minor, programme.currency)
    after = f" once the {issuing} vouchers above are issued" if issuing else ""
    return f"over budget: {shown} left in the programme{after}; a voucher is {value}"


class _IssuedSms:
    """The 'voucher issued' SMS of one issuance: rendered once per language and then completed
    with each code, which is exactly what rendering each message would give (checked on the
    first message of each language)."""

    _MARK = "@CODE@"  # survives rendering unchanged (GSM-7 basic characters only)

    def __init__(self, programme: Programme, expires: datetime) -> None:
        self.params: dict[str, Any] = {
            "value": format_minor(programme.voucher_value_minor, programme.currency),
            "sessions": programme.sessions_per_voucher,
            "expiry": expires.strftime("%d/%m/%Y"),
            "ussd": settings.ussd_code(),
            "short": settings.short_code(),
        }
        # The entrepreneur's share, when the programme asks one, is said in the same SMS.
        share = co_payment_share(programme.voucher_value_minor, programme.co_payment_percent)
        self.template = "voucher_issued"
        if share:
            self.template = "voucher_issued_co_payment"
            self.params["share"] = format_minor(share, programme.currency)
        self.templates: dict[str, tuple[str, int] | None] = {}

    def row(self, phone: str, language: str, code: str, now: datetime) -> dict[str, Any]:
        shown = format_voucher_code(code)
        if language not in self.templates:
            self.templates[language] = self._template(language, shown, now)
        template = self.templates[language]
        if template is None:
            body = outbox.render(self.template, language, code=shown, **self.params)
            return outbox.row(phone, body, "voucher_issued", now)
        body, parts = template
        return outbox.row(
            phone, body.replace(self._MARK, shown, 1), "voucher_issued", now, segments=parts
        )

    def _template(self, language: str, shown: str, now: datetime) -> tuple[str, int] | None:
        whole = outbox.row(
            "",
            outbox.render(self.template, language, code=shown, **self.params),
            "voucher_issued",
            now,
        )
        marked = outbox.row(
            "",
            outbox.render(self.template, language, code=self._MARK, **self.params),
            "voucher_issued",
            now,
        )["body"]
        if marked.count(self._MARK) != 1 or marked.replace(self._MARK, shown) != whole["body"]:
            return None
        return marked, int(whole["segments"])


def _judged(
    programme: Programme, rows: list[_Row], registered: dict[str, _Registered], report: ImportReport
) -> list[_Row]:
    """The rows that may issue a voucher to the person it will belong to; the others reported.
    A phone not yet registered is registered by its first row, which the file's later rows for
    that phone must agree with."""
    judged = []
    first_rows: dict[str, _Row] = {}
    for r in rows:
        person = registered.get(r.person.phone)
        if person is not None:
            refusal = _refusal_for_registered(programme, r, person)
        else:
            first = first_rows.setdefault(r.person.phone, r)
            refusal = None
            if (r.person.trade, r.person.region) != (first.person.trade, first.person.region):
                refusal = errors.RegisteredDifferently(
                    f"Line {first.line} registers this phone as"
                    f" {_in_words(first.person.trade, first.person.region)}, not"
                    f" {_in_words(r.person.trade, r.person.region)}.",
                    field="trade" if r.person.trade != first.person.trade else "region",
                )
        if refusal is None:
            judged.append(r)
        else:
            report.errors.append(RowError(r.line, refusal.message, _field(refusal), refusal.code))
    return judged


def _registered(rows: list[_Row]) -> dict[str, _Registered]:
    """phone -> the person registered with it, for the rows' phones; locked (FOR SHARE) until the
    commit, so that their trade and region stay what the rows were judged on."""
    phones = sorted({r.person.phone for r in rows})
    found: dict[str, _Registered] = {}
    for chunk in _chunks(phones):
        for eid, phone, language, trade, region in db.session.execute(
            sa.select(
                Entrepreneur.id,
                Entrepreneur.phone,
                Entrepreneur.language,
                Entrepreneur.trade_code,
                Entrepreneur.region_code,
            )
            .where(dialect.any_of(Entrepreneur.phone, chunk))
            .with_for_update(read=True)
        ):
            found[phone] = _Registered(eid, language, trade, region)
    return found


def _entrepreneurs_for(
    uow: unit.UnitOfWork, rows: list[_Row], registered: dict[str, _Registered]
) -> dict[str, tuple[int, str]]:
    """phone -> (entrepreneur id, language), registering those who are new."""
    now = uow.now
    found = {phone: (p.id, p.language) for phone, p in registered.items()}
    if len(rows) == 1 and not found:
        person = _get_or_register(uow, rows[0].person)
        return {person.phone: (person.id, person.language)}
    new: dict[str, CleanEntrepreneur] = {}
    for r in rows:
        if r.person.phone not in found:
            new.setdefault(r.person.phone, r.person)
    new_rows = [
        {
            "phone": p.phone,
            "name": p.name,
            "gender": p.gender,
            "birth_year": p.birth_year,
            "trade_code": p.trade,
            "region_code": p.region,
            "language": p.language,
            "sms_opt_out": False,
            "created_at": now,
        }
        for p in new.values()
    ]
    ids = bulk.insert_returning_ids(db.session(), bulk.table_of(Entrepreneur), new_rows)
    # One `after` per trade and region, shared by the events that say the same: the audit chain and
    # COPY encode a shared value once.
    afters: dict[tuple[str, str], dict[str, str]] = {}
    events = []
    for p, eid in zip(new.values(), ids, strict=True):
        found[p.phone] = (eid, p.language)
        after = afters.setdefault((p.trade, p.region), {"trade": p.trade, "region": p.region})
        events.append((eid, None, after))
    uow.audit_many("entrepreneur.registered", "entrepreneur", events)
    return found


def _fresh_codes(n: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        batch = {new_voucher_code() for _ in range(n - len(codes))} - codes
        for chunk in _chunks(sorted(batch)):
            taken = set(
                db.session.scalars(
                    sa.select(Voucher.code).where(dialect.any_of(Voucher.code, chunk))
                )
            )
            batch -= taken
        codes |= batch
    return list(codes)


def _get_or_register(uow: unit.UnitOfWork, person: CleanEntrepreneur) -> Entrepreneur:
    """The existing entrepreneur for this phone, or a new one."""
    existing = db.session.scalar(sa.select(Entrepreneur).where(Entrepreneur.phone == person.phone))
    if existing is not None:
        return existing
    entrepreneur = Entrepreneur(
        phone=person.phone,
        name=person.name,
        gender=person.gender,
        birth_year=person.birth_year,
        trade_code=person.trade,
        region_code=person.region,
        language=person.language,
        sms_opt_out=False,
        created_at=uow.now,
    )
    db.session.add(entrepreneur)
    db.session.flush()
    uow.audit(
        "entrepreneur.registered",
        entrepreneur,
        None,
        {"trade": person.trade, "region": person.region},
    )
    return entrepreneur
