"""The Africa's Talking SMS backend, built on the official SDK (`africastalking>=2.0.3`).

One `SMSService` instance per gateway (never the SDK's module-level `initialize()` globals), one
HTTP request per `send` for all recipients, and one `RecipientResult` per distinct recipient:

- per-recipient `statusCode`: 100/101/102 accepted (message id kept); 401/402/405 (account or
  configuration trouble) alert; 403/404/406/407 (this recipient) permanent; 500/501/502 and anything
  unknown retry;
- a requested recipient missing from the reply: alert when the reply has no recipients at all and
  its `Message` names an account problem (`InvalidSenderId`, ...), otherwise retry;
- an HTTP 5xx (or 408/429), a failure to connect, or a garbled reply: retry; any other HTTP 4xx (a
  wrong API key or username, a refused account) alert: retrying cannot help; a read timeout, or the connection dropping after the request
  went out: ambiguous (the message may have been sent, and the API has no idempotency key).

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
from typing import Any
from urllib.parse import urlencode

import requests
from africastalking.Service import DEFAULT_TIMEOUT_S, AfricasTalkingException
from africastalking.SMS import SMSService
from urllib3.exceptions import ProtocolError

from .gateway import Outcome, RecipientResult

log = logging.getLogger(__name__)

ACCEPTED_CODES = frozenset({100, 101, 102})  # processed, sent, queued
ALERT_CODES = frozenset({401, 402, 405})  # RiskHold, InvalidSenderId, InsufficientBalance
PERMANENT_CODES = frozenset({403, 404, 406, 407})  # InvalidPhoneNumber, UnsupportedNumberType,
# UserInBlacklist, CouldNotRoute
RETRY_CODES = frozenset({500, 501, 502})  # gateway trouble (unknown codes are retried as well)

# A reply without any recipient whose Message is one of these is an account/configuration problem.
ALERT_MESSAGES = frozenset({"invalidsenderid", "insufficientbalance", "riskhold"})

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


def _outcome_for_code(code: int | None) -> Outcome:
    if code in ACCEPTED_CODES:
        return Outcome.ACCEPTED
    if code in ALERT_CODES:
        return Outcome.ALERT
    if code in PERMANENT_CODES:
        return Outcome.PERMANENT
    return Outcome.RETRY  # 500/501/502, and anything we do not know


def _connection_dropped_after_sending(exc: requests.exceptions.ConnectionError) -> bool:
    """requests wraps a connection dropped mid-exchange ("Connection aborted.", e.g. the server
    closing it without an answer) as a ConnectionError around urllib3's ProtocolError; failures to
    connect at all come wrapped in MaxRetryError/NewConnectionError instead."""
    return any(isinstance(arg, ProtocolError) for arg in exc.args)


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})  # request timeout, too many requests


class HttpStatusError(AfricasTalkingException):
    """What the SDK raises for a non-2xx answer (its body as the message), with the status kept."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(body)
        self.status = status


def _outcome_for_http_status(status: int | None) -> Outcome:
    if status is not None and 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS:
        return Outcome.ALERT
    return Outcome.RETRY


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
        return session

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
        raw = data.get("Recipients")
        entries = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []

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
            outcome = _outcome_for_code(code)
            status = str(entry.get("status") or "")
            message_id = None
            if outcome == Outcome.ACCEPTED:
                raw_id = entry.get("messageId")
                message_id = str(raw_id) if raw_id not in (None, "", "None") else None
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
        if not any_entries and message.strip().lower() in ALERT_MESSAGES:
            log.warning(
                "africastalking: account/configuration problem: %s", _mask_text(_truncate(message))
            )
            return RecipientResult(phone, Outcome.ALERT, detail=_truncate(message))
        log.warning("africastalking: %s missing from the reply", mask_phone(phone))
        return RecipientResult(
            phone, Outcome.RETRY, detail=_truncate(message or "missing from the reply")
        )


def _status_code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
