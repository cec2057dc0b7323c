"""The funder dashboard: redemption statistics of the programmes a funder pays for.

Aggregates only (see `queries.stats`): the page, its CSV files and the JSON API render the same
report, so they always agree. A funder's staff see only programmes whose `funder` is theirs; any
other programme answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from ...domain.models import Programme, Role
from ...domain.money import format_minor
from ...extensions import db
from ...queries import stats
from ...services import reference
from ..api.schemas import StatsQuery
from ..auth import staff_required

bp = Blueprint("funder", __name__, url_prefix="/funder")

_KIND_LABELS = {"craft_worker": "Craft worker", "institute": "Training institute"}


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


def chart_payload(table: stats.Table) -> dict[str, Any] | None:
    """What the chart draws: the table's own numbers (a `<5` or `hidden` figure is a gap)."""
    if table.chart is None or not table.rows:
        return None
    labels = [
        _label(table.chart.label_column, row.get(table.chart.label_column)) for row in table.rows
    ]
    datasets = []
    for key in table.chart.series:
        column = table.column(key)
        values = [
            v if isinstance(v, int | float) else None for v in (row.get(key) for row in table.rows)
        ]
        datasets.append({"label": column.label, "data": values, "kind": column.kind})
    return {"type": table.chart.type, "labels": labels, "datasets": datasets, "title": table.title}


def _label(column: str, value: Any) -> str:
    if column == "kind":
        return _KIND_LABELS.get(str(value), str(value))
    return "" if value is None else str(value)


def _group_label(table_key: str, value: Any) -> str:
    if table_key == "by_trade":
        return reference.trade_name(str(value))
    if table_key == "by_region":
        return reference.region_name(str(value))
    if table_key == "by_gender":
        return str(value).capitalize()
    return _label("kind", value) if table_key in ("provider_choice", "ratings") else str(value)


def show(value: Any, kind: str, currency: str) -> str:
    """A figure as the page prints it; `<5`, `hidden` and missing figures are printed as they are."""
    if value is None:
        return "n/a"
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


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={filename}",
            "Cache-Control": "no-store",
        },
    )


@bp.get("")
@staff_required(Role.FUNDER, Role.ADMIN)
def home() -> str:
    programmes = db.session.scalars(_visible()).all()
    return render_template("funder/home.html", programmes=programmes)


@bp.get("/programmes/<int:programme_id>")
@staff_required(Role.FUNDER, Role.ADMIN)
def dashboard(programme_id: int) -> tuple[str, int] | str:
    programme = _programme(programme_id)
    filters, errors = _filters()
    report = stats.programme_stats(programme, filters)
    page = render_template(
        "funder/dashboard.html",
        programme=programme,
        report=report,
        errors=errors,
        args={k: v for k, v in request.args.items() if v.strip()},
        charts={t.key: chart_payload(t) for t in report.tables},
        show=show,
        group_label=_group_label,
        rows=stats.table_rows,
        trades=reference.trades(),
        regions=reference.regions(),
        genders=["female", "male", "other"],
        small=stats.SMALL_GROUP,
        as_of=stats.as_of_text(report),
        issue_months=stats.issue_months_text(report.filters),
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
