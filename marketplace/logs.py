"""Logs an operator can search: in production one line of JSON per event (`LOG_FORMAT=json`), with
the request id, route kind, outcome and duration of each request (written by `metrics.Instrumented`),
and every phone number masked (`+254******362`) wherever it appears in a message.

Names are never passed to a log call; numbers that slip into a message (a gateway's error text)
are masked here, the last line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, has_request_context, request

from .domain.phones import mask_phone

# Runs of 9 to 15 digits, with or without a leading +: phone numbers in any form we store or
# receive them. (Ids and counts are shorter; voucher codes are written in groups of 3-4.)
_PHONE_LIKE = re.compile(r"(?<![\w+])\+?\d{9,15}(?!\w)")
FIELDS = ("event", "request_id", "kind", "method", "status", "outcome", "duration_ms", "job")
_MARK = "_ujuzi_handler"


def mask(text: str) -> str:
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)


def mask_name(name: str) -> str:
    """'Amina Wanjiru' -> 'A. W.': enough to tell two people apart in a log, no more."""
    return " ".join(f"{part[0]}." for part in name.split() if part)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message (masked), the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if "request_id" not in entry and has_request_context():
            entry["request_id"] = request.environ.get("ujuzi.request_id") or None
        if record.exc_info:
            entry["error"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def register(app: Flask) -> None:
    """Send the app's logs to standard error: JSON lines, or masked text in development."""
    if app.testing:
        return  # pytest captures and inspects the records itself
    root = logging.getLogger()
    if any(getattr(h, _MARK, False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(str(app.config.get("LOG_LEVEL") or "INFO").upper())
