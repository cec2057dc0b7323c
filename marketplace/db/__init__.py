"""The one door to the database's special powers; use cases never ask which database they run on.

- `dialect`: expressions and statements that differ between PostgreSQL and SQLite (`is_postgres`,
  `any_of`, `month_of`, `days_between`, inserts with ON CONFLICT).
- `tuning`: how connections are set up (SQLite PRAGMAs, closed connections replaced) and what a
  transaction may ask of the database for itself (`analyze`, `roomy_sorts`, `transaction_lock`).
- `bulk`: many rows at once (COPY on PostgreSQL, ids drawn from the sequence first).
- `grouping`: every combination of rolled-up dimensions in one statement where the database can.
- `reading`: the connection reads go through, and the autocommit read engine lent to a USSD hop.
- `prepared`: statements sent straight through libpq as server-side prepared statements.
- `session`: the app's database session, which refuses a commit where nothing may change.
"""
