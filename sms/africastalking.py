"""The Africa's Talking SMS backend, built on the official SDK (`africastalking>=2.0.3`).

One `SMSService` instance per gateway (never the SDK's module-level `initialize()` globals), one
HTTP request per `send` for all recipients, and one `RecipientResult` per distinct recipient.
What each answer means is declared in one table per concept, every value the gateway documents
listed with the action it takes (a value not listed takes the table's logged default):

- `RECIPIENT_STATUS_CODES`, the per-recipient `statusCode`: accepted (message id kept), retry with
  backoff, a permanent failure for this recipient, or account trouble (park and alert);
- `REPLY_MESSAGES`, the reply's `Message` when it names no recipient at all (`InvalidSenderId`, ...);
- `HTTP_STATUSES`, a non-2xx answer. One whose body still carries the per-recipient reply (the API
  answers HTTP 409 with each recipient's `409 DoNotDisturbRejection`) is read like any reply, each
  recipient by its own code;
- a failure to connect, or a garbled reply: retry; a read timeout, or the connection dropping after
  the request went out: ambiguous (the message may have been sent, and the API has no idempotency
  key).

Message bodies are never logged and phone numbers only masked.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from africastalking.Service import DEFAULT_TIMEOUT_S, AfricasTalkingException
from africastalking.SMS import SMSService
from urllib3.exceptions import ProtocolError

from .gateway import Outcome, RecipientResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Meaning:
    """What one documented value is called and the action it takes."""

    name: str
    outcome: Outcome


# Every per-recipient statusCode Africa's Talking documents (AFRICASTALKING.md, and the help
# centre for 409), and what the worker does with it.
RECIPIENT_STATUS_CODES: Mapping[int, Meaning] = {
    100: Meaning("Processed", Outcome.ACCEPTED),
    101: Meaning("Sent", Outcome.ACCEPTED),
    102: Meaning("Queued", Outcome.ACCEPTED),
    # The account or its configuration: every message would meet it, so park and alert.
    401: Meaning("RiskHold", Outcome.ALERT),
    402: Meaning("InvalidSenderId", Outcome.ALERT),
    405: Meaning("InsufficientBalance", Outcome.ALERT),
    # This recipient: sending again cannot help.
    403: Meaning("InvalidPhoneNumber", Outcome.PERMANENT),
    404: Meaning("UnsupportedNumberType", Outcome.PERMANENT),
    406: Meaning("UserInBlacklist", Outcome.PERMANENT),
    407: Meaning("CouldNotRoute", Outcome.PERMANENT),
    # The recipient is on the do-not-disturb register (a promotional sender id outside the hours
    # the regulator allows): refused for this recipient, not the account's trouble.
    409: Meaning("DoNotDisturbRejection", Outcome.PERMANENT),
    # The gateway's own trouble: retry with backoff, bounded by SMS_MAX_ATTEMPTS.
    500: Meaning("InternalServerError", Outcome.RETRY),
    501: Meaning("GatewayError", Outcome.RETRY),
    502: Meaning("RejectedByGateway", Outcome.RETRY),
}
_CODE_BY_NAME = {m.name.lower(): code for code, m in RECIPIENT_STATUS_CODES.items()}

# The reply's `Message` when it lists no recipient at all: these name account trouble. Any other
# message without recipients is retried with backoff (logged).
REPLY_MESSAGES: Mapping[str, Meaning] = {
    "invalidsenderid": Meaning("InvalidSenderId", Outcome.ALERT),
    "insufficientbalance": Meaning("InsufficientBalance", Outcome.ALERT),
    "riskhold": Meaning("RiskHold", Outcome.ALERT),
}

# A non-2xx answer whose body carries no per-recipient reply.
HTTP_STATUSES: Mapping[int, Meaning] = {
    400: Meaning("Bad Request", Outcome.ALERT),  # the request as configured is refused
    401: Meaning("Unauthorized", Outcome.ALERT),  # a wrong API key or username
    403: Meaning("Forbidden", Outcome.ALERT),  # the account is refused
    404: Meaning("Not Found", Outcome.ALERT),  # a wrong API base URL
    408: Meaning("Request Timeout", Outcome.RETRY),
    # Documented for the do-not-disturb rejection of these recipients, whose reply normally says
    # so recipient by recipient; without that body it still concerns these recipients only.
    409: Meaning("Conflict (DoNotDisturbRejection)", Outcome.PERMANENT),
    429: Meaning("Too Many Requests", Outcome.RETRY),
    500: Meaning("Internal Server Error", Outcome.RETRY),
    502: Meaning("Bad Gateway", Outcome.RETRY),
    503: Meaning("Service Unavailable", Outcome.RETRY),
    504: Meaning("Gateway Timeout", Outcome.RETRY),
}

API_VERSION_PATH = "/version1"
DETAIL_MAX = 200

# What the SDK's own `validate_phone` accepts; anything else makes it raise for the whole batch.
_SDK_PHONE = re.compile(r"^\+\d{1,3}\d{3,}$")
_PHONE_LIKE = re.compile(r"\+?\d{7,}")


def mask_phone(phone: str) -> str:
    """`+254711000111` -> `+254******111`: enough to tell numbers apart in logs, no more."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]


def _mask_text(text: str) -> str:
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)


def _phone_key(phone: str) -> str:
    """Match numbers whether or not they carry the '+' (the reply sometimes differs)."""
    return "".join(ch for ch in phone if ch.isdigit())


def _truncate(text: str, limit: int = DETAIL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _outcome_for_code(code: int | None, status: str, message_id: str | None) -> Outcome:
    """The action for one recipient's entry. A code the table does not know (or none) is looked up
    by its status name; failing that, a message id (the gateway's receipt: it has the message) is
    taken as accepted, and anything else is retried with backoff. Either default is logged."""
    meaning = RECIPIENT_STATUS_CODES.get(code) if code is not None else None
    if meaning is None:
        by_name = _CODE_BY_NAME.get(status.strip().lower())
        if by_name is not None:
            log.warning(
                "africastalking: statusCode %r is not documented; %r read by its name",
                code,
                status,
            )
            return RECIPIENT_STATUS_CODES[by_name].outcome
        outcome = Outcome.ACCEPTED if message_id else Outcome.RETRY
        log.warning(
            "africastalking: unknown statusCode %r (%r): %s",
            code,
            _truncate(status, 40),
            "it carries a message id, so the gateway has it" if message_id else "retrying later",
        )
        return outcome
    return meaning.outcome


def _connection_dropped_after_sending(exc: requests.exceptions.ConnectionError) -> bool:
    """requests wraps a connection dropped mid-exchange ("Connection aborted.", e.g. the server
    closing it without an answer) as a ConnectionError around urllib3's ProtocolError; failures to
    connect at all come wrapped in MaxRetryError/NewConnectionError instead."""
    return any(isinstance(arg, ProtocolError) for arg in exc.args)


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class HttpStatusError(AfricasTalkingException):
    """What the SDK raises for a non-2xx answer (its body as the message), with the status kept."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(body)
        self.status = status


def _outcome_for_http_status(status: int | None) -> Outcome:
    """A non-2xx answer without a per-recipient reply. Not in the table: another client error is
    account or configuration trouble (retrying cannot help), anything else is retried; logged."""
    meaning = HTTP_STATUSES.get(status) if status is not None else None
    if meaning is not None:
        return meaning.outcome
    outcome = Outcome.ALERT if status is not None and 400 <= status < 500 else Outcome.RETRY
    log.warning("africastalking: HTTP status %s is not in the table: %s", status, outcome.value)
    return outcome


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter, working out each host's connection-pool settings once.

    requests works them out on every send, and with a CA bundle named by the environment that means
    asking the disk whether the bundle is a directory, every time."""

    def __init__(self) -> None:
        super().__init__()
        self._pool_keys: dict[tuple[str, str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        origin = "/".join(str(request.url).split("/", 3)[:3])  # scheme://host:port
        key = (origin, repr(verify), repr(cert))
        found = self._pool_keys.get(key)
        if found is None:
            found = super().build_connection_pool_key_attributes(request, verify, cert)
            self._pool_keys[key] = found
        host, pool = found
        return dict(host), dict(pool)


class _PooledSMSService(SMSService):
    """The SDK's SMS service, sending over a kept-alive connection per thread.

    The SDK posts with module-level `requests.post`, which opens a new connection (and TLS handshake)
    for every send. Everything else — URL, form fields, headers, reply handling — stays the SDK's.
    """

    def __init__(self, username: str, api_key: str) -> None:
        super().__init__(username, api_key)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.mount("https://", _Adapter())
            session.mount("http://", _Adapter())
            # The environment is read once, here: left to itself, requests looks for a .netrc
            # file and the CA bundle on every send. Proxies for the API's host still apply.
            session.trust_env = False
            session.proxies.update(requests.utils.get_environ_proxies(self._baseUrl))
            ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if ca_bundle:
                session.verify = ca_bundle
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's kept-alive connections."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def _post_form(
        self, url: str, headers: Mapping[str, str], form: dict[str, Any], timeout: Any
    ) -> requests.Response:
        """What `session.post(url, headers=headers, data=form)` sends (the same body, the session's
        headers under the SDK's, its cookies), prepared directly: the session's own preparation
        merges its settings through `typing.Protocol` checks that cost more than the rest of the
        send."""
        session = self._session()
        body = urlencode({k: v for k, v in form.items() if v is not None}, doseq=True)
        merged = {**session.headers, "Content-Type": FORM_CONTENT_TYPE, **headers}
        request = requests.Request(
            "POST", url, headers=merged, data=body, params="", cookies=session.cookies
        )
        return session.send(request.prepare(), timeout=timeout)

    def _make_request(
        self,
        url: str,
        method: str,
        headers: Any,
        data: Any,
        params: Any,
        callback: Any = None,
        timeout: Any = DEFAULT_TIMEOUT_S,
    ) -> Any:
        if callback is not None or method.upper() != "POST" or params or not isinstance(data, dict):
            return super()._make_request(url, method, headers, data, params, callback, timeout)
        res = self._post_form(url, headers, data, timeout)
        if not 200 <= res.status_code < 300:
            raise HttpStatusError(res.status_code, res.text)
        if res.headers.get("content-type") == "application/json":
            return res.json()
        return res.text


class AfricasTalkingGateway:
    """`SmsGateway` over Africa's Talking's bulk SMS API."""

    name = "africastalking"

    def __init__(
        self,
        username: str,
        api_key: str,
        sender_id: str | None = None,
        api_base: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT_S,
    ) -> None:
        if not username:
            raise ValueError("Africa's Talking username is required")
        if not api_key:
            raise ValueError("Africa's Talking API key is required")
        self.username = username
        self.sender_id = sender_id or None
        self.timeout = timeout
        self._service = _PooledSMSService(username, api_key)
        if api_base:
            # The SDK keeps its base (https://api.africastalking.com, or the sandbox host) plus
            # "/version1" in `_baseUrl` (and `_contentUrl` for premium sends) and appends the path
            # ("/messaging") per call. `api_base` replaces the host part; "/version1" is added
            # unless already given.
            base = api_base.rstrip("/")
            if not base.endswith(API_VERSION_PATH):
                base += API_VERSION_PATH
            self._service._baseUrl = base
            self._service._contentUrl = base

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AfricasTalkingGateway:
        return cls(
            username=str(config.get("AT_USERNAME") or ""),
            api_key=str(config.get("AT_API_KEY") or ""),
            sender_id=config.get("AT_SENDER_ID") or None,
            api_base=config.get("AT_API_BASE") or None,
        )

    def close(self) -> None:
        """Close the kept-alive connections (a new send opens them again)."""
        self._service.close()

    @property
    def messaging_url(self) -> str:
        """The URL `send` posts to (for logs and tests)."""
        return str(self._service._make_url("/messaging"))

    def send(self, body: str, recipients: Sequence[str]) -> list[RecipientResult]:
        # One result per distinct recipient; a number given twice is sent to once.
        wanted = list(dict.fromkeys(recipients))
        results: list[RecipientResult] = []
        sendable: list[str] = []
        for phone in wanted:
            if isinstance(phone, str) and _SDK_PHONE.match(phone):
                sendable.append(phone)
            else:
                log.warning(
                    "africastalking: not sending to %s: not an E.164 number",
                    mask_phone(str(phone)),
                )
                results.append(
                    RecipientResult(
                        str(phone), Outcome.PERMANENT, detail="invalid phone number (not E.164)"
                    )
                )
        if sendable:
            results.extend(self._send(body, sendable))
        counts = Counter(r.outcome.value for r in results)
        log.info(
            "africastalking: sent %d chars to %d recipient(s): %s",
            len(body),
            len(results),
            ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing",
        )
        return results

    def _send(self, body: str, recipients: list[str]) -> list[RecipientResult]:
        def everyone(outcome: Outcome, detail: str) -> list[RecipientResult]:
            return [RecipientResult(phone, outcome, detail=detail) for phone in recipients]

        try:
            reply = self._service.send(
                body, recipients, sender_id=self.sender_id, enqueue=True, timeout=self.timeout
            )
        except AfricasTalkingException as exc:
            # A non-2xx answer; the SDK keeps the body, and our request keeps the status code.
            status = getattr(exc, "status", None)
            data = self._parse(str(exc))
            if data is not None and _recipient_entries(data):
                log.info("africastalking: HTTP %s with a per-recipient reply", status)
                return self._map(data, recipients)
            outcome = _outcome_for_http_status(status)
            detail = _truncate(f"HTTP {status}: {exc}" if status else str(exc))
            log.warning("africastalking: HTTP error from the API: %s", _mask_text(detail))
            return everyone(outcome, detail)
        except requests.exceptions.ConnectTimeout:
            log.warning("africastalking: connect timeout (not sent)")
            return everyone(Outcome.RETRY, "connect timeout")
        except requests.exceptions.ReadTimeout:
            log.warning("africastalking: read timeout: the message may have been sent")
            return everyone(Outcome.AMBIGUOUS, "read timeout: the message may have been sent")
        except requests.exceptions.ConnectionError as exc:
            if _connection_dropped_after_sending(exc):
                log.warning("africastalking: connection dropped mid-request: may have been sent")
                return everyone(
                    Outcome.AMBIGUOUS, "connection dropped mid-request: may have been sent"
                )
            log.warning("africastalking: could not connect (not sent): %s", type(exc).__name__)
            return everyone(Outcome.RETRY, "connection error")
        except requests.exceptions.Timeout:  # neither connect nor read: cannot tell
            log.warning("africastalking: timeout: the message may have been sent")
            return everyone(Outcome.AMBIGUOUS, "timeout: the message may have been sent")
        except ValueError as exc:  # includes a JSON body that does not parse
            log.warning("africastalking: unreadable reply: %s", type(exc).__name__)
            return everyone(Outcome.RETRY, "unreadable reply")
        except Exception:
            log.exception("africastalking: unexpected error while sending")
            return everyone(Outcome.RETRY, "unexpected error")

        data = self._parse(reply)
        if data is None:
            log.warning("africastalking: garbled reply (%d chars)", len(str(reply)))
            return everyone(Outcome.RETRY, "garbled reply")
        return self._map(data, recipients)

    @staticmethod
    def _parse(reply: Any) -> dict[str, Any] | None:
        """The SDK returns a dict for `application/json` and the text otherwise (for instance
        `application/json; charset=utf-8`): return `SMSMessageData`, or None when garbled."""
        if isinstance(reply, bytes | str):
            try:
                reply = json.loads(reply)
            except ValueError:
                return None
        if not isinstance(reply, dict):
            return None
        data = reply.get("SMSMessageData")
        return data if isinstance(data, dict) else None

    def _map(self, data: dict[str, Any], recipients: list[str]) -> list[RecipientResult]:
        message = str(data.get("Message") or "")
        entries = _recipient_entries(data)

        by_key: dict[str, dict[str, Any]] = {}
        for item in entries:
            key = _phone_key(str(item.get("number") or ""))
            if key and key not in by_key:
                by_key[key] = item

        results = []
        for phone in recipients:
            entry = by_key.pop(_phone_key(phone), None)
            if entry is None:
                results.append(self._missing(phone, message, any_entries=bool(entries)))
                continue
            code = _status_code(entry.get("statusCode"))
            status = str(entry.get("status") or "")
            raw_id = entry.get("messageId")
            message_id = str(raw_id) if raw_id not in (None, "", "None") else None
            outcome = _outcome_for_code(code, status, message_id)
            if outcome != Outcome.ACCEPTED:
                message_id = None
            results.append(
                RecipientResult(phone, outcome, message_id, code, _truncate(status or message))
            )
            log.debug(
                "africastalking: %s -> %s (%s %s)", mask_phone(phone), outcome.value, code, status
            )
            if outcome == Outcome.ALERT:
                log.warning("africastalking: account/configuration problem: %s (%s)", status, code)
        for key in by_key:
            log.warning(
                "africastalking: reply names a number we did not send to: %s", mask_phone(key)
            )
        return results

    @staticmethod
    def _missing(phone: str, message: str, any_entries: bool) -> RecipientResult:
        meaning = None if any_entries else REPLY_MESSAGES.get(message.strip().lower())
        if meaning is not None:
            if meaning.outcome == Outcome.ALERT:
                log.warning(
                    "africastalking: account/configuration problem: %s",
                    _mask_text(_truncate(message)),
                )
            return RecipientResult(phone, meaning.outcome, detail=_truncate(message))
        log.warning("africastalking: %s missing from the reply", mask_phone(phone))
        return RecipientResult(
            phone, Outcome.RETRY, detail=_truncate(message or "missing from the reply")
        )


def _recipient_entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    raw = data.get("Recipients")
    return [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []


def _status_code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
