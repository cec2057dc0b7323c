"""GET /api/v1/programmes/<id>/stats: the funder dashboard's figures as JSON."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...domain import errors
from ...domain.models import Programme, Role
from ...queries import stats
from ...services import programmes
from . import bp, funder_scope, requires
from . import schemas as s


def visible_programme(programme_id: int) -> Programme:
    """The programme, if this key may see it; another funder's programme does not exist."""
    programme = programmes.get_programme(programme_id)
    scope = funder_scope()
    if scope is not None and programme.funder != scope:
        raise errors.NotFound("No such programme.")
    return programme


def filters_from(data: dict[str, Any]) -> stats.StatsFilter:
    return stats.StatsFilter(
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        region=data.get("region") or None,
        trade=data.get("trade") or None,
        gender=data.get("gender") or None,
    )


@bp.get("/programmes/<int:programme_id>/stats")
@requires(Role.ADMIN, Role.FUNDER, who="admin, funder (its own programmes)")
@bp.arguments(s.StatsQuery, location="query")
@bp.response(200, s.StatsOut)
def programme_stats(query: dict[str, Any], programme_id: int) -> Any:
    """Redemption statistics of a programme (aggregates only; groups of fewer than 5 entrepreneurs read '<5', and a row that would give one away reads 'hidden')"""
    programme = visible_programme(programme_id)  # another funder's programme: 404
    report = stats.programme_stats(programme, filters_from(query))
    # Already JSON (`queries.stats.to_json`): answered as it is; StatsOut documents it.
    return jsonify(stats.to_json(report))
