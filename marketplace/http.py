"""How each channel answers HTTP: declared by the channel, read by the app-wide handlers.

The web's handlers (`web/security.py`) add the headers that guide a browser to every answer and
turn a failure no route handled into an HTML page. A channel that answers machines says so here,
without knowing the web (and the web applies it without knowing the channel):

- `not_for_browsers(blueprint)`: the blueprint's plain answers go without the browser headers (an
  HTML error page of its routes still gets them);
- `answer_errors_under(prefix, answer)`: a request under `prefix` that fails before a route of its
  own is found (a wrong path or method) is answered by `answer(status)`, as its routes answer
  their own failures.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response

ErrorAnswer = Callable[[int], Response]

# Blueprints whose answers are for machines, not browsers (the gateway's callbacks).
_NOT_FOR_BROWSERS: set[str] = set()

# Path prefixes whose failures are answered in their channel's own format, not as a page.
_ANSWERS_UNDER: dict[str, ErrorAnswer] = {}


def not_for_browsers(blueprint: Blueprint) -> Blueprint:
    """The blueprint answers machines only: its plain answers go without the browser headers."""
    _NOT_FOR_BROWSERS.add(blueprint.name)
    return blueprint


def for_browsers(blueprint: str | None) -> bool:
    """Whether the answers of the blueprint named (None: no blueprint) are read by browsers."""
    return blueprint not in _NOT_FOR_BROWSERS


def answer_errors_under(prefix: str, answer: ErrorAnswer) -> None:
    """Requests under `prefix` that fail before a route of theirs is found are answered by
    `answer(status)`."""
    _ANSWERS_UNDER[prefix] = answer


def error_answer(path: str) -> ErrorAnswer | None:
    """How a failure of a request to `path` is answered, when its channel said (else None)."""
    for prefix, answer in _ANSWERS_UNDER.items():
        if path.startswith(prefix):
            return answer
    return None
