"""Use cases. Each service function loads, decides, persists and commits once; SMS it causes are
written to the outbox inside that same transaction."""
