"""The funder dashboard: redemption statistics of the programmes a funder pays for.

Aggregates only (see `queries.stats`): the page, its CSV files and the JSON API render the same
report, so they always agree. A funder's staff see only programmes whose `funder` is theirs; any
other programme answers 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from babel.dates import format_date
from flask import Blueprint, Flask, Response, abort, render_template, request
from flask_login import current_user
from markupsafe import Markup, escape
from marshmallow import ValidationError

from ...domain.models import Programme, Role
from ...domain.money import format_minor
from ...extensions import db
from ...messages import pages
from ...queries import stats
from ...services import reference
from ..api.schemas import StatsQuery
from ..auth import staff_required
from ..i18n import current_language

bp = Blueprint("funder", __name__, url_prefix="/funder")

words = pages.funder


def _visible() -> sa.Select[Any]:
    stmt = sa.select(Programme).order_by(Programme.name)
    if current_user.role != Role.ADMIN:
        stmt = stmt.where(Programme.funder == current_user.funder)
    return stmt


def _programme(programme_id: int) -> Programme:
    programme = db.session.scalar(_visible().where(Programme.id == programme_id))
    if programme is None:
        abort(404)
    return programme


def _filters() -> tuple[stats.StatsFilter, dict[str, Any]]:
    """The filter form's values, checked by the same schema as the API's query parameters."""
    raw = {k: v for k, v in request.args.items() if v.strip()}
    try:
        data = StatsQuery().load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        return stats.StatsFilter(), {str(k): v for k, v in messages.items()}
    return stats.StatsFilter(
        date_from=data["date_from"],
        date_to=data["date_to"],
        region=data["region"],
        trade=data["trade"],
        gender=data["gender"],
    ), {}


def say(key: str, lang: str, **params: Any) -> str:
    """A word of the dashboard in `lang` (the catalogue's `funder.` section)."""
    return words(key, lang, **params)


def title(table: stats.Table, lang: str) -> str:
    if table.key == "top_providers":
        return say("top_providers.title", lang, n=stats.TOP_PROVIDERS)
    return say(f"{table.key}.title", lang)


def note(table: stats.Table, lang: str) -> str:
    """The table's note in `lang` (the breakdowns share one), or nothing when it has none."""
    if not table.note:
        return ""
    return say("breakdown.note" if table.key.startswith("by_") else f"{table.key}.note", lang)


def column_label(table: stats.Table, column: stats.Column, lang: str) -> str:
    """A column's heading: the table's own word for it, else the word every table uses."""
    for key in (f"{table.key}.{column.key}", f"column.{column.key}"):
        if key in words:
            return say(key, lang)
    if column.key == "group":
        return say(f"{table.key}.group", lang)
    raise KeyError(f"{table.key}.{column.key}: no heading in the catalogue")


def group_label(table_key: str, value: Any, lang: str = "en") -> str:
    """What a row is about, by name: a trade's or region's name, a provider kind or gender in
    words; anything else (a month, an age band, a provider's name) as it is."""
    if value is None:
        return ""
    if table_key == "by_trade":
        return reference.trade_name(str(value), lang)
    if table_key == "by_region":
        return reference.region_name(str(value))
    if table_key == "by_gender" and f"gender_{value}" in words:
        return say(f"gender_{value}", lang)
    if (
        table_key in ("provider_choice", "redemption_by_kind", "ratings", "kind")
        and f"kind_{value}" in words
    ):
        return say(f"kind_{value}", lang)
    if table_key == "by_age_band" and str(value) in AGE_WORDS:
        return say(AGE_WORDS[str(value)], lang)
    if table_key == "monthly":
        return month_name(str(value), lang)
    return str(value)


# The age bands the statistics name in English words; the others are numbers ("25-34").
AGE_WORDS = {"under 25": "age_under_25", "55 and over": "age_55_and_over"}


def month_name(month: str, lang: str) -> str:
    """A month the statistics write `YYYY-MM`, by its name in `lang` ("Novemba 2024")."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        return month
    return format_date(first, "LLLL y", locale=lang)


def _row_label(table: stats.Table, column: str, value: Any, lang: str) -> str:
    if column == "kind":
        return group_label("kind", value, lang)
    if column in ("group", "month"):
        return group_label(table.key, value, lang)
    return group_label("", value)


# The filter form's fields, by the words that head them on the page.
FILTER_LABELS = {
    "from": "issued_from",
    "to": "issued_to",
    "region": "region",
    "trade": "trade",
    "gender": "gender",
}


def filter_errors(errors: dict[str, Any], lang: str) -> list[str]:
    """What is wrong with the filter form, field by field, in `lang` (the schema's own messages
    are the API's, in English)."""
    said = []
    for field in errors:
        label = say(FILTER_LABELS[field], lang) if field in FILTER_LABELS else field
        if field in ("from", "to"):
            typed = request.args.get(field, "").strip()
            try:
                date.fromisoformat(typed)
                problem = "filter_after_end" if field == "from" else "filter_bad_date"
            except ValueError:
                problem = "filter_bad_date"
        else:
            problem = "filter_bad_choice"
        said.append(f"{label}: {say(problem, lang)}")
    return said


def chart_payload(table: stats.Table, lang: str = "en") -> dict[str, Any] | None:
    """What the chart draws: the table's own numbers (a `<5` or `hidden` figure is a gap), each
    row by its name in `lang`."""
    if table.chart is None or not table.rows:
        return None
    label_column = table.chart.label_column
    labels = [_row_label(table, label_column, row.get(label_column), lang) for row in table.rows]
    datasets = []
    for key in table.chart.series:
        column = table.column(key)
        values = [
            v if isinstance(v, int | float) else None for v in (row.get(key) for row in table.rows)
        ]
        datasets.append(
            {"label": column_label(table, column, lang), "data": values, "kind": column.kind}
        )
    return {
        "type": table.chart.type,
        "labels": labels,
        "datasets": datasets,
        "title": title(table, lang),
    }


def chart_gap(table: stats.Table) -> str | None:
    """Why a table's chart would draw nothing, as a key of the catalogue: every figure it draws is
    withheld (`<5` or `hidden`), or there is no figure yet. None when there is something to draw."""
    if table.chart is None or not table.rows:
        return None
    figures = [row.get(key) for key in table.chart.series for row in table.rows]
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in figures):
        return None
    if any(v in (stats.SUPPRESSED, stats.HIDDEN) for v in figures):
        return "chart_suppressed"
    return "nothing_yet"


def show(value: Any, kind: str, currency: str, lang: str = "en") -> str:
    """A figure as the page prints it: `<5` as it is, `hidden` and a missing figure in words."""
    if value is None:
        return say("not_available", lang)
    if value == stats.HIDDEN:
        return say("hidden", lang)
    if isinstance(value, str):
        return value
    if kind == "money":
        return format_minor(int(value), currency)
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "stars":
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def issue_months(filters: stats.StatsFilter, lang: str) -> str:
    """What the date filter covers, in words of `lang`: it works by whole issue months."""
    first, last = (month_name(m, lang) if m else m for m in filters.months)
    if first and last:
        return say("months_from_to", lang, first=first, last=last)
    if first:
        return say("months_from", lang, first=first)
    if last:
        return say("months_to", lang, last=last)
    return say("months_any", lang)


def complement_rule(lang: str) -> Markup:
    """The second privacy rule in words, its marker word emphasised as the tables print it."""
    text = escape(say("complement_rule", lang, hidden="{hidden}"))
    return Markup(text).format(hidden=Markup("<em>{}</em>").format(say("hidden", lang)))


def _when(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    return moment.strftime("%d/%m/%Y %H:%M" if lang == "sw" else "%d %b %Y %H:%M")


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={filename}",
            "Cache-Control": "no-store",
        },
    )


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_language()
    return {"lang": lang, "_": lambda key, **params: say(key, lang, **params)}


@bp.get("")
@staff_required(Role.FUNDER, Role.ADMIN)
def home() -> str:
    programmes = db.session.scalars(_visible()).all()
    return render_template("funder/home.html", programmes=programmes, small=stats.SMALL_GROUP)


@bp.get("/programmes/<int:programme_id>")
@staff_required(Role.FUNDER, Role.ADMIN)
def dashboard(programme_id: int) -> tuple[str, int] | str:
    programme = _programme(programme_id)
    filters, errors = _filters()
    report = stats.programme_stats(programme, filters)
    lang = current_language()
    page = render_template(
        "funder/dashboard.html",
        programme=programme,
        report=report,
        errors=filter_errors(errors, lang),
        args={k: v for k, v in request.args.items() if v.strip()},
        charts={t.key: chart_payload(t, lang) for t in report.tables},
        gaps={t.key: chart_gap(t) for t in report.tables},
        show=lambda value, kind: show(value, kind, report.currency, lang),
        title=lambda table: title(table, lang),
        note=lambda table: note(table, lang),
        heading=lambda table, column: column_label(table, column, lang),
        group_label=lambda table_key, value: group_label(table_key, value, lang),
        rows=stats.table_rows,
        trades=[(code, reference.trade_name(code, lang)) for code, *_rest in reference.trades()],
        regions=reference.regions(),
        genders=["female", "male", "other"],
        small=stats.SMALL_GROUP,
        as_of=stats.as_of_text(report),
        as_of_words=_when(report.as_of, lang),
        complement=complement_rule(lang),
        issue_months=issue_months(report.filters, lang),
    )
    return (page, 422) if errors else page


@bp.get("/programmes/<int:programme_id>/stats.csv")
@staff_required(Role.FUNDER, Role.ADMIN)
def report_csv(programme_id: int) -> Response:
    programme = _programme(programme_id)
    filters, errors = _filters()
    if errors:
        abort(400)
    report = stats.programme_stats(programme, filters)
    return _csv(stats.report_csv(report), f"programme-{programme.id}-statistics.csv")


@bp.get("/programmes/<int:programme_id>/<table_key>.csv")
@staff_required(Role.FUNDER, Role.ADMIN)
def table_csv(programme_id: int, table_key: str) -> Response:
    programme = _programme(programme_id)
    filters, errors = _filters()
    if errors:
        abort(400)
    report = stats.programme_stats(programme, filters)
    if table_key not in set(stats.table_keys(report)):
        abort(404)
    return _csv(
        stats.table_csv(report, report.table(table_key)),
        f"programme-{programme.id}-{table_key}.csv",
    )


def register(app: Flask) -> None:
    app.register_blueprint(bp)
