"""A local stand-in of Safaricom's Daraja (OAuth, B2C v3, Transaction Status, Account Balance), for
tests, benchmarks and demos. It keeps the contract of the M-Pesa brief's section 6:

- OAuth: Basic consumer key and secret; each new token ends the one before; tokens live
  `token_ttl` seconds; `expires_in` a number or the string "3599" (`expires_in_as_string`).
- B2C: validation in the documented order (content type, token, required fields, formats, a
  duplicate OriginatorConversationID refused with 500.002.1001 and no callback, scenario faults),
  then the acknowledgement and the outcome posted to the ResultURL after `result_delay` seconds.
  Business checks run at processing, as on M-Pesa: the SecurityCredential is decrypted with the
  stand-in's own private key and compared with the initiator's password (2001; a third 2001 in a
  row locks the initiator: 8006), the shortcode (2028), the amount limits (2, 3), the Utility
  balance with the charge (1), unregistered (2040) and unknown (SFC_IC0003) numbers, the payee's
  daily limit (4). A success debits the ledger once.
- Transaction Status: the true state of any payment it processed, whether or not its callback was
  delivered (Completed / Declined; Initiated while still processing; SFC_IC0003 for an id it never
  took). Account Balance: the ledger's accounts in Daraja's `|`/`&` format.
- Scenarios per request (a FIFO queue, then a PartyB mapping, then `success`), and random lost
  callbacks and queue timeouts for benchmarks (`lose_rate`, `timeout_rate`).
- Control API on loopback: `/__standin/reset`, `/__standin/scenarios`, `/__standin/payments`,
  `/__standin/deliver/<id>`, `/__standin/forge`, `/__standin/ledger`.

Its certificate (`cert_path`) is what the service's `MPESA_CERT_PATH` points at; the key pair is made
when the stand-in starts and never written anywhere but a temporary directory.

    python bench/mpesa_standin.py --port 8766
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import heapq
import itertools
import json
import os
import random
import re
import secrets
import string
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

EAT = dt.timezone(dt.timedelta(hours=3))
B2C_FIELDS = (
    "OriginatorConversationID",
    "InitiatorName",
    "SecurityCredential",
    "CommandID",
    "Amount",
    "PartyA",
    "PartyB",
    "Remarks",
    "QueueTimeOutURL",
    "ResultURL",
)
TS_FIELDS = (
    "Initiator",
    "SecurityCredential",
    "CommandID",
    "PartyA",
    "IdentifierType",
    "ResultURL",
    "QueueTimeOutURL",
    "Remarks",
)
AB_FIELDS = (
    "Initiator",
    "SecurityCredential",
    "CommandID",
    "PartyA",
    "IdentifierType",
    "Remarks",
    "QueueTimeOutURL",
    "ResultURL",
)
DESCS = {
    "0": "The service request is processed successfully.",
    "1": "The balance is insufficient for the transaction.",
    "2": "Declined due to limit rule",
    "3": "Declined due to limit rule: greater than the maximum transaction amount.",
    "4": "Declined due to limit rule: would exceed daily transfer limit",
    "2001": "The initiator information is invalid.",
    "8006": "The security credential is locked",
    "2028": "The request is not permitted according to product assignment.",
    "2040": "Credit Party customer type (Unregistered or Registered Customer) can't be supported by the service.",
    "SFC_IC0003": "The operator does not exist.",
    "17": "Internal Failure",
    "26": "System busy",
}
SANDBOX_REF = "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"


def make_key_pair(directory: str) -> tuple[rsa.RSAPrivateKey, str]:
    """A throwaway 2048-bit key and a self-signed certificate (PEM) in `directory`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "standin.apicrypt.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = os.path.join(directory, "standin_cert.pem")
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key, path


def _alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def _request_id() -> str:
    return f"{random.randint(10000, 99999)}-{random.randint(10000000, 99999999)}-1"


def _conversation_id() -> str:
    return f"AG_{dt.datetime.now(EAT):%Y%m%d}_{secrets.token_hex(10)}"


_receipts = itertools.count(1)


def _receipt() -> str:
    n = next(_receipts)
    body = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(5))
    return f"S{body}{n % 10000:04d}"


@dataclass
class Config:
    consumer_key: str = "standin-key"
    consumer_secret: str = "standin-secret"
    shortcode: str = "600999"
    initiators: dict[str, str] = field(default_factory=lambda: {"ujuzi-api": "Pa55#word"})
    utility_minor: int = 10_000_000_00
    working_minor: int = 0
    charges_minor: int = 0
    charge_minor: int = 22_40
    registered: dict[str, str] = field(default_factory=dict)  # msisdn -> registered name
    default_name: str | None = None  # a number not in `registered`: this name (None: "CUSTOMER")
    unregistered: set[str] = field(default_factory=set)
    nonexistent: set[str] = field(default_factory=set)
    token_ttl: float = 3600.0
    expires_in_as_string: bool = True
    timeout_shape: str = "echo"  # or "result"
    result_delay: float = 0.3
    max_tps: float = 0.0  # 0: no spike arrest
    hang_seconds: float = 2.0
    ack_delay: float = 1.0  # callback_before_ack holds the acknowledgement this long
    slow_seconds: float = 60.0
    lose_rate: float = 0.0  # the share of outcomes whose callback is never delivered
    timeout_rate: float = 0.0  # the share sent a queue timeout notice instead of a result
    seed: int | None = None
    result_code_as_string: bool = False
    single_param_object: bool = False


@dataclass
class B2C:
    request: dict[str, Any]
    scenario: str
    conversation_id: str
    received_at: float
    status: str = "processing"  # processing | completed | declined
    result_code: str = ""
    receipt: str | None = None
    debited_minor: int = 0
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    result_body: dict[str, Any] | None = None
    timeout_body: dict[str, Any] | None = None


class StandIn:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="mpesa-standin-")
        self.key, self.cert_path = make_key_pair(self._dir.name)
        self.lock = threading.RLock()
        self.config = Config(**config)
        self._reset_state()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._timer_cv = threading.Condition()
        self._poster = ThreadPoolExecutor(max_workers=16, thread_name_prefix="standin-post")
        self._threads: list[threading.Thread] = []
        self._stopped = False

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> StandIn:
        for target in (self.server.serve_forever, self._run_timers):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stopped = True
        with self._timer_cv:
            self._timer_cv.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self._poster.shutdown(wait=False, cancel_futures=True)
        self._dir.cleanup()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def _reset_state(self) -> None:
        c = self.config
        self.random = random.Random(c.seed)
        self.tokens: dict[str, float] = {}  # the one valid token -> its expiry
        self.tokens_issued = 0
        self.ledger = {
            "utility": c.utility_minor,
            "working": c.working_minor,
            "charges_paid": c.charges_minor,
        }
        self.payments: dict[str, B2C] = {}
        self.scenarios: list[str] = []
        self.failures_in_a_row: dict[str, int] = defaultdict(int)
        self.locked: set[str] = set()
        self.daily: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[float, str]] = []  # (time, path) of API calls
        self.status_queries: list[dict[str, Any]] = []
        self.balance_queries = 0
        self.forged: list[dict[str, Any]] = []

    def reset(self, **config: Any) -> None:
        """A new configuration and an empty state; deliveries still scheduled are dropped."""
        with self._timer_cv:
            self._timers.clear()
        with self.lock:
            base = {**self.config.__dict__, **config}
            for name in ("unregistered", "nonexistent"):
                base[name] = set(base[name])
            self.config = Config(**base)
            self._reset_state()

    def queue(self, *scenarios: str) -> None:
        with self.lock:
            self.scenarios.extend(scenarios)

    # --- inspection ------------------------------------------------------------------------

    def successful_debits(self) -> dict[str, int]:
        """OriginatorConversationID -> how many times the ledger paid it (never more than 1)."""
        with self.lock:
            return {oid: 1 for oid, p in self.payments.items() if p.status == "completed"}

    def completed(self) -> set[str]:
        with self.lock:
            return {oid for oid, p in self.payments.items() if p.status == "completed"}

    def settled(self) -> bool:
        with self.lock:
            return all(p.status != "processing" for p in self.payments.values())

    # --- timers and deliveries -------------------------------------------------------------

    def later(self, seconds: float, fn: Callable[[], None]) -> None:
        with self._timer_cv:
            heapq.heappush(self._timers, (time.monotonic() + seconds, next(self._timer_seq), fn))
            self._timer_cv.notify()

    def _run_timers(self) -> None:
        while not self._stopped:
            with self._timer_cv:
                while not self._stopped and (
                    not self._timers or self._timers[0][0] > time.monotonic()
                ):
                    wait = self._timers[0][0] - time.monotonic() if self._timers else None
                    self._timer_cv.wait(wait)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._timers)
            self._poster.submit(fn)

    def post(self, url: str, body: dict[str, Any], record: list[dict[str, Any]] | None) -> int:
        data = json.dumps(body).encode()
        started = time.monotonic()
        req = urllib.request.Request(
            url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                status = answer.status
                answer.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        if record is not None:
            with self.lock:
                record.append(
                    {
                        "url": url,
                        "status": status,
                        "seconds": round(time.monotonic() - started, 4),
                        "kind": "result" if "Result" in body else "timeout",
                    }
                )
        return status

    def deliver(self, oid: str, kind: str = "result") -> int:
        with self.lock:
            p = self.payments[oid]
            if kind == "result":
                if p.result_body is None:
                    self._process(p)
                body, url = p.result_body, p.request["ResultURL"]
            else:
                body, url = self._timeout_body(p), p.request["QueueTimeOutURL"]
        assert body is not None
        return self.post(url, body, p.deliveries)

    # --- HTTP ------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def do_GET(self) -> None:
                standin.dispatch(self, "GET")

            def do_POST(self) -> None:
                standin.dispatch(self, "POST")

        return Handler

    def dispatch(self, h: Any, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = parts.path
        if path.startswith("/__standin/"):
            return self._control(h, method, path, raw)
        with self.lock:
            self.requests.append((time.monotonic(), path))
        if path == "/oauth/v1/generate" and method == "GET":
            return h._answer(*self._oauth(h, parse_qs(parts.query)))
        if method != "POST":
            return h._answer(405, self._error("405.001", "Method not allowed"))
        if path == "/mpesa/b2c/v3/paymentrequest":
            return self._b2c(h, raw)
        if path == "/mpesa/transactionstatus/v1/query":
            return h._answer(*self._status(h, raw))
        if path == "/mpesa/accountbalance/v1/query":
            return h._answer(*self._balance(h, raw))
        return h._answer(404, self._error("404.002.01", "Resource not found"))

    @staticmethod
    def _error(code: str, message: str) -> dict[str, Any]:
        return {"requestId": _request_id(), "errorCode": code, "errorMessage": message}

    def _oauth(self, h: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
        if query.get("grant_type") != ["client_credentials"]:
            return 400, self._error("400.008.02", "Invalid grant type passed")
        auth = h.headers.get("Authorization") or ""
        if not auth.startswith("Basic "):
            return 400, self._error("400.008.01", "Invalid authentication type passed")
        try:
            key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return 400, self._error("400.008.01", "Invalid authentication type passed")
        c = self.config
        if (key, secret) != (c.consumer_key, c.consumer_secret):
            return 400, self._error("400.008.01", "Invalid authentication type passed")
        with self.lock:
            token = _alnum(28)
            self.tokens = {token: time.monotonic() + c.token_ttl}  # the previous one ends
            self.tokens_issued += 1
        expires: Any = "3599" if c.expires_in_as_string else 3599
        return 200, {"access_token": token, "expires_in": expires}

    def _token_error(self, h: Any) -> tuple[int, Any] | None:
        auth = h.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self.lock:
            valid = self.tokens.get(token, 0) > time.monotonic()
        if valid:
            return None
        return 401, self._error("401.002.01", f"Error Occurred - Invalid Access Token - {token}")

    def _json(self, h: Any, raw: bytes) -> dict[str, Any] | None:
        if "application/json" not in (h.headers.get("Content-Type") or ""):
            return None
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _missing(self, body: dict[str, Any], fields: tuple[str, ...]) -> str | None:
        for name in fields:
            if body.get(name) in (None, ""):
                return name
        return None

    def _b2c(self, h: Any, raw: bytes) -> None:
        body = self._json(h, raw)
        if body is None:
            return h._answer(400, self._error("400.002.02", "Bad Request - Invalid InitiatorName"))
        refused = self._token_error(h)
        if refused:
            return h._answer(*refused)
        bad = self._missing(body, B2C_FIELDS) or self._b2c_format(body)
        if bad:
            return h._answer(400, self._error("400.002.02", f"Bad Request - Invalid {bad}"))
        oid = str(body["OriginatorConversationID"])
        with self.lock:
            if oid in self.payments:
                return h._answer(
                    500, self._error("500.002.1001", "Duplicate OriginatorConversationID.")
                )
            scenario = self._scenario(str(body["PartyB"]))
            if self.config.max_tps or scenario == "throttle":
                now = time.monotonic()
                recent = sum(1 for t, p in self.requests if now - t < 1 and "b2c" in p)
                if scenario == "throttle" or recent > self.config.max_tps:
                    if scenario == "throttle":
                        self.scenarios.insert(0, "success")  # the retry goes through
                    return h._answer(
                        500, self._error("500.003.02", "Error Occurred: Spike Arrest Violation")
                    )
            if scenario.startswith("reject_sync:"):
                code = scenario.split(":", 1)[1]
                status = int(code.split(".")[0]) if code[:3].isdigit() else 500
                return h._answer(status, self._error(code, "Rejected by the stand-in"))
            if scenario == "duplicate_id":
                return h._answer(
                    500, self._error("500.002.1001", "Duplicate OriginatorConversationID.")
                )
            p = B2C(body, scenario, _conversation_id(), time.monotonic())
            self.payments[oid] = p
        ack = {
            "ConversationID": p.conversation_id,
            "OriginatorConversationID": oid,
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }
        self._outcome(p)
        if scenario == "http_hang":
            time.sleep(self.config.hang_seconds)
            return h._answer(200, ack)
        if scenario == "callback_before_ack":
            time.sleep(self.config.ack_delay)
        return h._answer(200, ack)

    def _b2c_format(self, body: dict[str, Any]) -> str | None:
        if body["CommandID"] not in ("SalaryPayment", "BusinessPayment", "PromotionPayment"):
            return "CommandID"
        if not re.fullmatch(r"254\d{9}", str(body["PartyB"])):
            return "PartyB"
        if not 2 <= len(str(body["Remarks"])) <= 100:
            return "Remarks"
        for name in ("Occassion", "Occasion"):
            if name in body and not 1 <= len(str(body[name])) <= 100:
                return name
        amount = body["Amount"]
        if isinstance(amount, bool) or not (
            (isinstance(amount, int) and amount > 0)
            or (isinstance(amount, str) and amount.isdigit() and int(amount) > 0)
        ):
            return "Amount"
        for name in ("QueueTimeOutURL", "ResultURL"):
            if not str(body[name]).startswith(("http://", "https://")):
                return name
        return None

    def _scenario(self, party_b: str) -> str:
        if self.scenarios:
            return self.scenarios.pop(0)
        if party_b.startswith("254000000"):
            mapped = {"001": "lost_callback", "002": "timeout_only", "003": "fail:2040"}
            return mapped.get(party_b[-3:], "success")
        r = self.random.random()
        if r < self.config.timeout_rate:
            return "timeout_only"  # a timeout notice and no result: reconciliation settles it
        if r < self.config.timeout_rate + self.config.lose_rate:
            return "lost_callback"
        return "success"

    # --- processing ------------------------------------------------------------------------

    def _credential_ok(self, name: str, credential: str) -> bool:
        password = self.config.initiators.get(name)
        if password is None:
            return False
        try:
            plain = self.key.decrypt(base64.b64decode(credential), padding.PKCS1v15())
        except ValueError:
            return False
        return plain == password.encode()

    def _decide(self, p: B2C) -> str:
        """The business checks, in order (called under the lock)."""
        r, c = p.request, self.config
        name = str(r["InitiatorName"])
        if name in self.locked:
            return "8006"
        if not self._credential_ok(name, str(r["SecurityCredential"])):
            self.failures_in_a_row[name] += 1
            if self.failures_in_a_row[name] >= 3:
                self.locked.add(name)
                return "8006" if self.failures_in_a_row[name] > 3 else "2001"
            return "2001"
        self.failures_in_a_row[name] = 0
        if p.scenario.startswith("fail:"):
            return p.scenario.split(":", 1)[1]
        if str(r["PartyA"]) != c.shortcode:
            return "2028"
        amount = int(r["Amount"]) * 100
        party = str(r["PartyB"])
        if amount < 10_00:
            return "2"
        if amount > 250_000_00:
            return "3"
        if amount + c.charge_minor > self.ledger["utility"]:
            return "1"
        if party in c.unregistered or p.scenario == "unregistered":
            return "2040"
        if party in c.nonexistent:
            return "SFC_IC0003"
        if self.daily[party] + amount > 500_000_00:
            return "4"
        return "0"

    def _process(self, p: B2C) -> None:
        """Decide and apply the outcome once (under the lock); build the Result body."""
        if p.result_body is not None:
            return
        code = self._decide(p)
        oid = p.request["OriginatorConversationID"]
        party = str(p.request["PartyB"])
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": code
            if (self.config.result_code_as_string or not code.isdigit())
            else int(code),
            "ResultDesc": DESCS.get(code, "Declined"),
            "OriginatorConversationID": oid,
            "ConversationID": p.conversation_id,
        }
        if code == "0":
            amount = int(p.request["Amount"]) * 100
            self.ledger["utility"] -= amount
            self.ledger["charges_paid"] -= self.config.charge_minor
            self.daily[party] += amount
            p.status, p.receipt, p.debited_minor = "completed", _receipt(), amount
            name = self.config.registered.get(party) or self.config.default_name or "CUSTOMER"
            if p.scenario == "name_mismatch":
                name = "SOMEONE ELSE ENTIRELY"
            params = [
                {"Key": "TransactionAmount", "Value": amount // 100},
                {"Key": "TransactionReceipt", "Value": p.receipt},
                {"Key": "ReceiverPartyPublicName", "Value": f"{party} - {name}"},
                {
                    "Key": "TransactionCompletedDateTime",
                    "Value": dt.datetime.now(EAT).strftime("%d.%m.%Y %H:%M:%S"),
                },
                {"Key": "B2CUtilityAccountAvailableFunds", "Value": self.ledger["utility"] / 100},
                {"Key": "B2CWorkingAccountAvailableFunds", "Value": self.ledger["working"] / 100},
                {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
                {
                    "Key": "B2CChargesPaidAccountAvailableFunds",
                    "Value": self.ledger["charges_paid"] / 100,
                },
            ]
            result["TransactionID"] = p.receipt
            result["ResultParameters"] = {
                "ResultParameter": params[0] if self.config.single_param_object else params
            }
        else:
            p.status = "declined"
            result["TransactionID"] = "SGX0000000"
        p.result_code = code
        result["ReferenceData"] = {
            "ReferenceItem": {"Key": "QueueTimeoutURL", "Value": SANDBOX_REF}
        }
        p.result_body = {"Result": result}

    def _timeout_body(self, p: B2C) -> dict[str, Any]:
        if self.config.timeout_shape == "result":
            return {
                "Result": {
                    "ResultType": 0,
                    "ResultCode": 1,
                    "ResultDesc": "The service request has timed out.",
                    "OriginatorConversationID": p.request["OriginatorConversationID"],
                    "ConversationID": p.conversation_id,
                }
            }
        return dict(p.request)

    def _outcome(self, p: B2C) -> None:
        """Schedule what the scenario delivers after the acknowledgement."""
        oid = p.request["OriginatorConversationID"]
        d = self.config.result_delay
        s = p.scenario

        def process() -> None:
            with self.lock:
                self._process(p)

        def result() -> None:
            process()
            self.deliver(oid, "result")

        def timeout() -> None:
            self.deliver(oid, "timeout")

        if s == "callback_before_ack":
            result()  # delivered (and answered) before the acknowledgement goes
        elif s in ("lost_callback",):
            self.later(d, process)
        elif s == "timeout_then_success":
            self.later(d, timeout)
            self.later(d * 3, result)
        elif s.startswith("timeout_only"):
            self.later(d, timeout)
            if s == "timeout_only:expired":
                self.later(d, lambda: self._expire(p))
            else:
                self.later(d, process)
        elif s == "duplicate_callback":
            for k in range(3):
                self.later(d * (1 + k), result)
        elif s == "out_of_order":
            self.later(d, result)
            self.later(d * 3, timeout)
        elif s == "slow":
            self.later(self.config.slow_seconds, result)
        elif s == "callback_5xx_once":

            def retrying() -> None:
                process()
                if self.deliver(oid, "result") >= 300:
                    self.later(2.0, lambda: self.deliver(oid, "result"))

            self.later(d, retrying)
        else:  # success, fail:<code>, name_mismatch, unregistered, http_hang
            self.later(d, result)

    def _expire(self, p: B2C) -> None:
        with self.lock:
            if p.result_body is None:
                p.status, p.result_code = "declined", "expired"
                p.result_body = {
                    "Result": {"ResultType": 0, "ResultCode": 1, "ResultDesc": "Expired"}
                }

    # --- Transaction Status and Account Balance --------------------------------------------

    def _query_checks(self, h: Any, raw: bytes, fields: tuple[str, ...]) -> tuple[Any, Any]:
        body = self._json(h, raw)
        if body is None:
            return None, (400, self._error("400.002.02", "Bad Request - Invalid Initiator"))
        refused = self._token_error(h)
        if refused:
            return None, refused
        for alias, name in (("Command ID", "CommandID"), ("Transaction ID", "TransactionID")):
            if alias in body and name not in body:
                body[name] = body[alias]
        bad = self._missing(body, fields)
        if bad:
            return None, (400, self._error("400.002.02", f"Bad Request - Invalid {bad}"))
        return body, None

    def _ack(self) -> dict[str, Any]:
        return {
            "OriginatorConversationID": f"{random.randint(10000, 99999)}-{random.randint(1000000, 9999999)}-1",
            "ConversationID": _conversation_id(),
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }

    def _status(self, h: Any, raw: bytes) -> tuple[int, Any]:
        body, error = self._query_checks(h, raw, TS_FIELDS)
        if error:
            return error
        if body["CommandID"] != "TransactionStatusQuery":
            return 400, self._error("400.002.02", "Bad Request - Invalid CommandID")
        if not (body.get("TransactionID") or body.get("OriginalConversationID")):
            return 400, self._error("400.002.02", "Bad Request - Invalid TransactionID")
        ack = self._ack()
        with self.lock:
            self.status_queries.append(body)
        self.later(self.config.result_delay, lambda: self._status_result(body, ack))
        return 200, ack

    def _status_result(self, query: dict[str, Any], ack: dict[str, Any]) -> None:
        with self.lock:
            wanted = query.get("OriginalConversationID") or ""
            p = self.payments.get(wanted) or next(
                (
                    x
                    for x in self.payments.values()
                    if x.receipt and x.receipt == query.get("TransactionID")
                ),
                None,
            )
            head = {
                "ResultType": 0,
                "OriginatorConversationID": ack["OriginatorConversationID"],
                "ConversationID": ack["ConversationID"],
                "TransactionID": "MBN0000000",
            }
            if p is None:
                body = {
                    "Result": {
                        **head,
                        "ResultCode": "SFC_IC0003",
                        "ResultDesc": DESCS["SFC_IC0003"],
                    }
                }
            else:
                party = str(p.request["PartyB"])
                status = {"completed": "Completed", "declined": "Declined"}.get(
                    p.status, "Initiated"
                )
                if p.result_code == "expired":
                    status = "Expired"
                name = self.config.registered.get(party) or self.config.default_name or "CUSTOMER"
                now = dt.datetime.now(EAT)
                params = [
                    {"Key": "DebitPartyName", "Value": f"{self.config.shortcode} - Ujuzi Stand-in"},
                    {"Key": "CreditPartyName", "Value": f"{party} - {name}"},
                    {
                        "Key": "OriginatorConversationID",
                        "Value": p.request["OriginatorConversationID"],
                    },
                    {"Key": "InitiatedTime", "Value": int(now.strftime("%Y%m%d%H%M%S"))},
                    {"Key": "FinalisedTime", "Value": int(now.strftime("%Y%m%d%H%M%S"))},
                    {"Key": "DebitAccountType", "Value": "Utility Account"},
                    {
                        "Key": "DebitPartyCharges",
                        "Value": f"Fee For B2C Payment|KES|{self.config.charge_minor / 100:.2f}",
                    },
                    {"Key": "TransactionReason"},
                    {"Key": "ReasonType", "Value": "Business Payment to Customer via API"},
                    {"Key": "TransactionStatus", "Value": status},
                    {"Key": "Amount", "Value": str(p.request["Amount"])},
                    {"Key": "ConversationID", "Value": p.conversation_id},
                    {"Key": "ReceiptNo", "Value": p.receipt or ""},
                ]
                body = {
                    "Result": {
                        **head,
                        "ResultCode": 0,
                        "ResultDesc": "The service request is processed successfully.",
                        "ResultParameters": {"ResultParameter": params},
                        "ReferenceData": {"ReferenceItem": {"Key": "Occasion"}},
                    }
                }
        self.post(str(query["ResultURL"]), body, None)

    def _balance(self, h: Any, raw: bytes) -> tuple[int, Any]:
        body, error = self._query_checks(h, raw, AB_FIELDS)
        if error:
            return error
        if body["CommandID"] != "AccountBalance":
            return 400, self._error("400.002.02", "Bad Request - Invalid CommandID")
        ack = self._ack()
        with self.lock:
            self.balance_queries += 1
        self.later(self.config.result_delay, lambda: self._balance_result(body, ack))
        return 200, ack

    def _balance_result(self, query: dict[str, Any], ack: dict[str, Any]) -> None:
        with self.lock:
            w, u, c = (self.ledger[k] / 100 for k in ("working", "utility", "charges_paid"))
        accounts = "&".join(
            f"{name}|KES|{v:.2f}|{v:.2f}|0.00|0.00"
            for name, v in (
                ("Working Account", w),
                ("Float Account", 0.0),
                ("Utility Account", u),
                ("Charges Paid Account", c),
                ("Organization Settlement Account", 0.0),
            )
        )
        body = {
            "Result": {
                "ResultType": 0,
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "OriginatorConversationID": ack["OriginatorConversationID"],
                "ConversationID": ack["ConversationID"],
                "TransactionID": "OA90000000",
                "ResultParameters": {
                    "ResultParameter": [
                        {"Key": "AccountBalance", "Value": accounts},
                        {
                            "Key": "BOCompletedTime",
                            "Value": int(dt.datetime.now(EAT).strftime("%Y%m%d%H%M%S")),
                        },
                    ]
                },
            }
        }
        self.post(str(query["ResultURL"]), body, None)

    # --- control ---------------------------------------------------------------------------

    def _control(self, h: Any, method: str, path: str, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        if path == "/__standin/reset" and method == "POST":
            mapping = {
                "utility": "utility_minor",
                "working": "working_minor",
                "charges_paid": "charges_minor",
                "consumer": None,
            }
            config: dict[str, Any] = {}
            for k, v in body.items():
                if k == "consumer":
                    config["consumer_key"], config["consumer_secret"] = v["key"], v["secret"]
                elif k in ("utility", "working", "charges_paid"):
                    config[mapping[k]] = round(float(v) * 100)
                else:
                    config[k] = v
            self.reset(**config)
            return h._answer(200, {"ok": True})
        if path == "/__standin/scenarios" and method == "POST":
            self.queue(*body.get("queue", []))
            return h._answer(200, {"queued": len(self.scenarios)})
        if path == "/__standin/payments" and method == "GET":
            with self.lock:
                listing = [
                    {
                        "OriginatorConversationID": oid,
                        "scenario": p.scenario,
                        "status": p.status,
                        "result_code": p.result_code,
                        "receipt": p.receipt,
                        "debited": p.debited_minor / 100,
                        "deliveries": list(p.deliveries),
                    }
                    for oid, p in self.payments.items()
                ]
            return h._answer(200, listing)
        if path.startswith("/__standin/deliver/") and method == "POST":
            oid = path.rsplit("/", 1)[1]
            kind = parse_qs(urlsplit(h.path).query).get("kind", ["result"])[0]
            if oid not in self.payments:
                return h._answer(404, {"error": "no such payment"})
            return h._answer(200, {"status": self.deliver(oid, kind)})
        if path == "/__standin/forge" and method == "POST":
            status = self.post(str(body["url"]), body["body"], self.forged)
            return h._answer(200, {"status": status})
        if path == "/__standin/ledger" and method == "GET":
            with self.lock:
                return h._answer(200, {k: v / 100 for k, v in self.ledger.items()})
        return h._answer(404, {"error": "no such control"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--lose-rate", type=float, default=0.0)
    parser.add_argument("--timeout-rate", type=float, default=0.0)
    parser.add_argument("--result-delay", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    standin = StandIn(
        port=args.port,
        lose_rate=args.lose_rate,
        timeout_rate=args.timeout_rate,
        result_delay=args.result_delay,
        seed=args.seed,
    ).start()
    print(f"Daraja stand-in on {standin.url}; certificate {standin.cert_path}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
