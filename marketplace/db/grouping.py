"""Roll-up rows for every combination of "every value" dimensions, summed from the finest rows.

A table of counts by dimensions (say region, trade, month) holds its finest rows, where no
dimension is `wild`; `insert_rollups` adds the rows where some dimensions are `wild` ("every
value"), each summed from the finest rows. On PostgreSQL that is one GROUPING SETS statement, one
scan of the finest rows; elsewhere one INSERT ... SELECT per combination.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import dialect, tuning


def insert_rollups(
    session: Session,
    table: sa.Table,
    scope: tuple[str, Any],
    dims: Sequence[str],
    keys: Sequence[str],
    measures: Mapping[str, str],
    wild: str,
) -> None:
    """Add the rows of every combination of `wild` dimensions within `scope` (a column and its
    value, say the programme), grouped by the other dimensions and the `keys`, with each of the
    `measures` (column: "sum" or "max") aggregated. A scope without finest rows adds none."""
    scope_column, scope_value = scope
    finest = [table.c[scope_column] == scope_value, *(table.c[d] != wild for d in dims)]
    columns = [scope_column, *dims, *keys, *measures]

    def measured() -> list[Any]:
        out = []
        for name, how in measures.items():
            agg = sa.func.max(table.c[name]) if how == "max" else sa.func.sum(table.c[name])
            out.append(sa.cast(agg, table.c[name].type).label(name))
        return out

    combinations = [
        wilds for size in range(1, len(dims) + 1) for wilds in itertools.combinations(dims, size)
    ]
    if dialect.is_postgres():
        # The finest rows were just written: let the planner see how many.
        tuning.analyze(session, table.name)
        sets = [
            sa.tuple_(*(table.c[d] for d in dims if d not in wilds), *(table.c[k] for k in keys))
            for wilds in combinations
        ]
        grouped = (
            sa.select(
                sa.literal(scope_value).label(scope_column),
                *(
                    sa.case((sa.func.grouping(table.c[d]) == 1, wild), else_=table.c[d]).label(d)
                    for d in dims
                ),
                *(table.c[k].label(k) for k in keys),
                *measured(),
            )
            .where(*finest)
            .group_by(sa.func.grouping_sets(*sets))
            .having(sa.func.count() > 0)
        )
        session.execute(sa.insert(table).from_select(columns, grouped))
        return
    for wilds in combinations:
        kept_columns = [table.c[d] for d in dims if d not in wilds] + [table.c[k] for k in keys]
        select = (
            sa.select(
                sa.literal(scope_value).label(scope_column),
                *(sa.literal(wild).label(d) if d in wilds else table.c[d].label(d) for d in dims),
                *(table.c[k].label(k) for k in keys),
                *measured(),
            )
            .where(*finest)
            # Grouped by the scope too, so a scope without rows adds none.
            .group_by(table.c[scope_column], *kept_columns)
        )
        session.execute(sa.insert(table).from_select(columns, select))
