"""The M-Pesa backend: Safaricom's Daraja B2C v3, Transaction Status and Account Balance.

The only module that speaks Daraja (its paths, fields, codes) and imports `cryptography`. It
turns every answer into the channel-neutral words of `marketplace/domain/payments.py`:

- **OAuth.** One token for every worker: Daraja ends a token when it issues the next, so workers
  that fetched their own would end each other's. The token is kept by a `TokenStore` (the
  database's, `tokens.py`), where one fetcher at a time takes it under a lock; a call answered
  "Invalid Access Token" asks the store for a token newer than the one refused, then sends the
  same request (the same OriginatorConversationID) once more.
- **SecurityCredential.** The initiator password encrypted with the certificate at
  `MPESA_CERT_PATH` (RSA, PKCS #1 v1.5, then base64), computed once.
- **B2C.** The acknowledgement only says the request was taken; the result comes to the
  ResultURL, or a timeout notice to the QueueTimeOutURL. A request whose answer never came (a
  read timeout, a dropped connection) is `UNKNOWN`: the caller sends the same id again (Daraja
  refuses a duplicate id, `500.002.1001`, so money goes once) or asks its status. Throttling
  (`500.003.02`/`.03`) and other 5xx are sent again later with the same id.
- **Callbacks.** `parse_*` read any JSON body without raising: the result's `ResultCode` as a
  number or a string, `ResultParameter` as a list or one object, items without `Value`, the
  timeout notice as the original request echoed or as a `Result` envelope.
- **Result codes.** Each documented code has its class (`FAILURES`): the payee's (not registered,
  no such number, limits: that payment fails and the officer is told), ours (credential, product,
  funds: the queue stops and operators are alerted) or the channel's passing trouble.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from marketplace.domain.models.payments import FailureClass
from marketplace.domain.payments import Outcome, PaymentOrder, Result, Sent, Submission

log = logging.getLogger(__name__)

OAUTH_PATH = "/oauth/v1/generate?grant_type=client_credentials"
B2C_PATH = "/mpesa/b2c/v3/paymentrequest"
STATUS_PATH = "/mpesa/transactionstatus/v1/query"
BALANCE_PATH = "/mpesa/accountbalance/v1/query"
SANDBOX_URL = "https://sandbox.safaricom.co.ke"

# Where Daraja posts back, under `<PUBLIC_BASE_URL>/mpesa/<MPESA_CALLBACK_SECRET>/`.
CALLBACK_KINDS = (
    "b2c/result",
    "b2c/timeout",
    "status/result",
    "status/timeout",
    "balance/result",
    "balance/timeout",
)

R, C, T = FailureClass.RECIPIENT, FailureClass.CONFIGURATION, FailureClass.TRANSIENT
F = FailureClass.FUNDS
# Every B2C ResultCode Daraja documents (MPESA.md 1.7) and what it means for us.
FAILURES: Mapping[str, FailureClass] = {
    "2040": R,  # recipient not registered for M-Pesa
    "SFC_IC0003": R,  # no such M-Pesa number
    "8": R,  # the payee's wallet would exceed its maximum balance
    "4": R,  # the payee's daily limit
    "2": R,  # below the minimum amount
    "3": R,  # above the maximum per transaction
    "1": F,  # the Utility account is short of funds
    "11": C,  # our B2C account is not active
    "21": C,  # the initiator lacks the B2C role
    "2001": C,  # initiator name, password or certificate wrong
    "2006": C,  # our account is not active
    "2028": C,  # the shortcode lacks the B2C product
    "8006": C,  # the initiator's credential is locked
    "18": C,  # initiator credential check failure
    "20": C,  # unresolved initiator
    "17": T,  # internal failure
    "26": T,  # traffic blocking (system too busy)
    "15": T,  # duplicate detected
}
THROTTLING = ("500.003.02", "500.003.03")
DUPLICATE = "500.002.1001"
INVALID_TOKEN = "401.002.01"


class TokenStore(Protocol):
    def get(self, fetch: Callable[[], tuple[str, float]], refused: str | None = None) -> str:
        """The token every worker shares. `fetch` gets a new one (token, seconds it lives); it is
        called by one caller at a time, only when no token is valid or the valid one is the
        `refused` one."""
        ...


class MemoryTokenStore:
    """One process's token (for a single-process tool); the app uses the database's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._until = 0.0
        self.fetches = 0

    def get(self, fetch: Callable[[], tuple[str, float]], refused: str | None = None) -> str:
        with self._lock:
            now = time.monotonic()
            if self._token is None or now >= self._until or self._token == refused:
                self._token, lives = fetch()
                self.fetches += 1
                self._until = now + lives
            return self._token


def security_credential(password: str, certificate: bytes) -> str:
    """The initiator password encrypted with M-Pesa's certificate (PEM or DER), RSA with PKCS #1
    v1.5 padding, base64: what Daraja's portal tool computes (344 characters for 2048-bit keys)."""
    cert = (
        x509.load_pem_x509_certificate(certificate)
        if b"-----BEGIN" in certificate
        else x509.load_der_x509_certificate(certificate)
    )
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the M-Pesa certificate does not hold an RSA key")
    return base64.b64encode(key.encrypt(password.encode(), padding.PKCS1v15())).decode()


def msisdn_digits(e164: str) -> str:
    """`+254712345678` as Daraja's PartyB: 12 digits, no plus."""
    return e164.lstrip("+")


@dataclass(frozen=True)
class Settings:
    base_url: str
    consumer_key: str
    consumer_secret: str
    shortcode: str
    initiator_name: str
    initiator_password: str
    cert_path: str
    callback_base: str  # <PUBLIC_BASE_URL>/mpesa/<MPESA_CALLBACK_SECRET>
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    command_id: str = "BusinessPayment"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        public = str(config.get("PUBLIC_BASE_URL") or "").rstrip("/")
        secret = str(config.get("MPESA_CALLBACK_SECRET") or "")
        return cls(
            base_url=str(config.get("MPESA_BASE_URL") or SANDBOX_URL).rstrip("/"),
            consumer_key=str(config.get("MPESA_CONSUMER_KEY") or ""),
            consumer_secret=str(config.get("MPESA_CONSUMER_SECRET") or ""),
            shortcode=str(config.get("MPESA_SHORTCODE") or ""),
            initiator_name=str(config.get("MPESA_INITIATOR_NAME") or ""),
            initiator_password=str(config.get("MPESA_INITIATOR_PASSWORD") or ""),
            cert_path=str(config.get("MPESA_CERT_PATH") or ""),
            callback_base=f"{public}/mpesa/{secret}",
            read_timeout=float(config.get("MPESA_READ_TIMEOUT", 30.0)),
        )


@dataclass(frozen=True)
class _Answer:
    status: int | None  # None: no answer (a timeout, a dropped connection)
    body: dict[str, Any]
    sent: bool = True  # False: the connection was never made, nothing reached Daraja

    @property
    def error_code(self) -> str:
        return str(self.body.get("errorCode") or "")

    @property
    def error_message(self) -> str:
        return str(self.body.get("errorMessage") or "")


class MpesaGateway:
    name = "mpesa"
    asynchronous = True

    def __init__(
        self, settings: Settings, tokens: TokenStore, http: requests.Session | None = None
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.http = http or requests.Session()
        self._credential: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], tokens: TokenStore) -> MpesaGateway:
        return cls(Settings.from_config(config), tokens)

    # --- the wire ---------------------------------------------------------------------------

    def credential(self) -> str:
        if self._credential is None:
            with open(self.settings.cert_path, "rb") as f:
                self._credential = security_credential(self.settings.initiator_password, f.read())
        return self._credential

    def _fetch_token(self) -> tuple[str, float]:
        s = self.settings
        answer = self.http.get(
            s.base_url + OAUTH_PATH,
            auth=(s.consumer_key, s.consumer_secret),
            timeout=(s.connect_timeout, s.read_timeout),
        )
        if answer.status_code != 200:
            raise TokenRefused(f"OAuth answered {answer.status_code}: {answer.text[:200]}")
        body = answer.json()
        lives = float(body.get("expires_in") or 3599)  # a number, or the same as a string
        # Refreshed early: a request signed just before expiry may arrive just after it.
        return str(body["access_token"]), max(lives - 300, lives / 2)

    def _post(self, path: str, body: Mapping[str, Any]) -> _Answer:
        """POST with the shared token; once more with a newer token if Daraja refused it."""
        refused: str | None = None
        for _ in range(2):
            try:
                token = self.tokens.get(self._fetch_token, refused)
            except (requests.RequestException, ValueError, KeyError, TokenRefused) as exc:
                log.error("M-Pesa token not obtained: %s", exc)
                return _Answer(401, {"errorCode": "token", "errorMessage": str(exc)}, sent=False)
            answer = self._send(path, body, token)
            if answer.status == 401 or answer.error_code == INVALID_TOKEN:
                refused = token
                continue
            return answer
        return answer

    def _send(self, path: str, body: Mapping[str, Any], token: str) -> _Answer:
        s = self.settings
        try:
            answer = self.http.post(
                s.base_url + path,
                data=json.dumps(body),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                timeout=(s.connect_timeout, s.read_timeout),
            )
        except requests.ConnectTimeout:
            return _Answer(None, {}, sent=False)
        except requests.ConnectionError as exc:
            # Refused before anything was written, or dropped after: only the first is safe to
            # call unsent, and both are sent again with the same id.
            refused = "refused" in str(exc).lower() and "reset" not in str(exc).lower()
            return _Answer(None, {}, sent=not refused)
        except requests.RequestException:
            return _Answer(None, {})
        try:
            parsed = answer.json()
        except ValueError:
            parsed = {}
        return _Answer(answer.status_code, parsed if isinstance(parsed, dict) else {})

    def _url(self, kind: str, suffix: str = "") -> str:
        return f"{self.settings.callback_base}/{kind}{suffix}"

    # --- the interface ----------------------------------------------------------------------

    def pay(self, order: PaymentOrder) -> Submission:
        if order.currency != "KES" or order.amount_minor % 100:
            return Submission(
                Sent.REJECTED,
                code="amount",
                desc="M-Pesa pays whole Kenya shillings only.",
                failure=FailureClass.REJECTED,
            )
        if not order.msisdn:
            return Submission(
                Sent.REJECTED,
                code="number",
                desc="No M-Pesa number.",
                failure=FailureClass.REJECTED,
            )
        s = self.settings
        body = {
            "OriginatorConversationID": order.originator_id,
            "InitiatorName": s.initiator_name,
            "SecurityCredential": self.credential(),
            "CommandID": s.command_id,
            "Amount": order.amount_minor // 100,
            "PartyA": s.shortcode,
            "PartyB": msisdn_digits(order.msisdn),
            "Remarks": (order.remarks or "Payment")[:100].ljust(2, "."),
            "QueueTimeOutURL": self._url("b2c/timeout"),
            "ResultURL": self._url("b2c/result"),
            "Occassion": "Training sessions",
        }
        return submission(self._post(B2C_PATH, body))

    def ask_status(self, originator_id: str) -> Result | None:
        s = self.settings
        body = {
            "Initiator": s.initiator_name,
            "SecurityCredential": self.credential(),
            "CommandID": "TransactionStatusQuery",
            "OriginalConversationID": originator_id,
            "PartyA": s.shortcode,
            "IdentifierType": "4",
            # The answer may name no payment (an id Daraja never saw): the URL does.
            "ResultURL": self._url("status/result", f"/{originator_id}"),
            "QueueTimeOutURL": self._url("status/timeout", f"/{originator_id}"),
            "Remarks": "Reconciliation",
            "Occasion": originator_id,
        }
        answer = self._post(STATUS_PATH, body)
        if answer.status != 200:
            log.warning(
                "M-Pesa status query for %s answered %s %s",
                originator_id,
                answer.status,
                answer.error_code,
            )
        return None

    def ask_balance(self) -> int | None:
        s = self.settings
        body = {
            "Initiator": s.initiator_name,
            "SecurityCredential": self.credential(),
            "CommandID": "AccountBalance",
            "PartyA": s.shortcode,
            "IdentifierType": "4",
            "Remarks": "Before a batch",
            "QueueTimeOutURL": self._url("balance/timeout"),
            "ResultURL": self._url("balance/result"),
        }
        answer = self._post(BALANCE_PATH, body)
        if answer.status != 200:
            log.warning("M-Pesa balance query answered %s %s", answer.status, answer.error_code)
        return None


class TokenRefused(Exception):
    """Daraja's OAuth refused the consumer key and secret."""


def submission(answer: _Answer) -> Submission:
    """What one B2C request's answer means."""
    code, message = answer.error_code, answer.error_message
    if answer.status is None:
        return Submission(Sent.UNKNOWN if answer.sent else Sent.NOT_SENT, code="no answer")
    if answer.status == 200 and str(answer.body.get("ResponseCode")) == "0":
        return Submission(Sent.ACCEPTED, str(answer.body.get("ConversationID") or "") or None)
    if code == DUPLICATE and "duplicate" in message.lower():
        return Submission(Sent.DUPLICATE, code=code, desc=message)
    if code in THROTTLING:
        return Submission(Sent.THROTTLED, code=code, desc=message)
    if not answer.sent or answer.status == 401:
        # The token could not be had: nothing was processed; ours to fix.
        return Submission(
            Sent.NOT_SENT, code=code or "401", desc=message, failure=FailureClass.CONFIGURATION
        )
    if answer.status >= 500:
        # Daraja's own trouble (500.003.1001, 500.002.1001 "System internal error", …): it may
        # have taken the request. The same id again.
        return Submission(Sent.UNKNOWN, code=code or str(answer.status), desc=message)
    if answer.status == 200:
        return Submission(
            Sent.REJECTED,
            code=str(answer.body.get("ResponseCode")),
            desc=str(answer.body.get("ResponseDescription") or ""),
            failure=FailureClass.REJECTED,
        )
    # 4xx: the request itself is wrong (a field, the product): never processed.
    return Submission(
        Sent.REJECTED,
        code=code or str(answer.status),
        desc=message,
        failure=FailureClass.CONFIGURATION
        if answer.status in (403, 404)
        else FailureClass.REJECTED,
    )


# --- callbacks -------------------------------------------------------------------------------


def _parameters(container: Any, key: str) -> dict[str, Any]:
    """A tolerant Key -> Value map of `ResultParameters.ResultParameter` (a list or one object;
    items without a Value are None)."""
    if not isinstance(container, dict):
        return {}
    items = container.get(key)
    if isinstance(items, dict):
        items = [items]
    found: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "Key" in item:
            found[str(item["Key"])] = item.get("Value")
    return found


def _money_minor(value: Any) -> int | None:
    try:
        return round(float(str(value)) * 100)
    except (TypeError, ValueError):
        return None


def _name(party: Any) -> str | None:
    """`254705912645 - NICHOLAS JOHN SONGOK` -> `NICHOLAS JOHN SONGOK`."""
    if party in (None, ""):
        return None
    text = str(party)
    return text.split(" - ", 1)[1].strip() if " - " in text else text.strip()


def classify(code: str) -> FailureClass:
    return FAILURES.get(code, FailureClass.TRANSIENT)


def originator_of(body: Any) -> str | None:
    """The OriginatorConversationID of any callback body: the Result's, or the echoed request's."""
    if not isinstance(body, dict):
        return None
    result = body.get("Result")
    if isinstance(result, dict) and result.get("OriginatorConversationID"):
        return str(result["OriginatorConversationID"])
    if body.get("OriginatorConversationID"):
        return str(body["OriginatorConversationID"])
    return None


def parse_b2c_result(body: Any) -> Result | None:
    result = body.get("Result") if isinstance(body, dict) else None
    originator = originator_of(body)
    if not isinstance(result, dict) or originator is None or "ResultCode" not in result:
        return None
    code = str(result.get("ResultCode")).strip()
    desc = str(result.get("ResultDesc") or "")
    params = _parameters(result.get("ResultParameters"), "ResultParameter")
    balance = _money_minor(params.get("B2CUtilityAccountAvailableFunds"))
    if code == "0":
        receipt = params.get("TransactionReceipt") or result.get("TransactionID")
        return Result(
            originator,
            Outcome.SUCCEEDED,
            receipt=str(receipt) if receipt else None,
            registered_name=_name(params.get("ReceiverPartyPublicName")),
            amount_minor=_money_minor(params.get("TransactionAmount")),
            code=code,
            desc=desc,
            balance_minor=balance,
        )
    return Result(originator, Outcome.FAILED, code=code, desc=desc, failure=classify(code))


def parse_b2c_timeout(body: Any) -> Result | None:
    """Either shape (the request echoed, or a Result envelope): timed out, never failed."""
    originator = originator_of(body)
    if originator is None:
        return None
    return Result(originator, Outcome.TIMED_OUT, desc="The request timed out in M-Pesa's queue.")


_DONE = {"completed": Outcome.SUCCEEDED}
_ENDED = ("declined", "cancelled", "canceled", "expired", "failed")


def parse_status_result(originator: str, body: Any) -> Result | None:
    """A Transaction Status answer about the payment `originator` (named by the ResultURL)."""
    result = body.get("Result") if isinstance(body, dict) else None
    if not isinstance(result, dict) or "ResultCode" not in result:
        return None
    code = str(result.get("ResultCode")).strip()
    if code == "SFC_IC0003":
        return Result(originator, Outcome.NOT_FOUND, code=code)
    if code != "0":
        return Result(originator, Outcome.PENDING, code=code, desc=str(result.get("ResultDesc")))
    params = _parameters(result.get("ResultParameters"), "ResultParameter")
    named = params.get("OriginatorConversationID")
    if named and str(named) != originator:
        return None  # an answer about another payment: not ours to apply
    status = str(params.get("TransactionStatus") or "").strip().lower()
    if status == "completed":
        receipt = params.get("ReceiptNo")
        return Result(
            originator,
            Outcome.SUCCEEDED,
            receipt=str(receipt) if receipt else None,
            registered_name=_name(params.get("CreditPartyName")),
            amount_minor=_money_minor(params.get("Amount")),
            code="0",
            desc="Completed (transaction status)",
        )
    if status in _ENDED:
        return Result(
            originator,
            Outcome.FAILED,
            code=f"status:{status}",
            desc=f"M-Pesa reports the payment {status}.",
            failure=FailureClass.TRANSIENT,
        )
    return Result(originator, Outcome.PENDING, code=code, desc=status)


def parse_balance(body: Any) -> int | None:
    """The Utility account's available balance (the account B2C pays from), in cents."""
    result = body.get("Result") if isinstance(body, dict) else None
    if not isinstance(result, dict) or str(result.get("ResultCode")).strip() != "0":
        return None
    accounts = str(
        _parameters(result.get("ResultParameters"), "ResultParameter").get("AccountBalance") or ""
    )
    for account in accounts.split("&"):
        parts = account.split("|")
        if len(parts) >= 3 and parts[0].strip().lower() == "utility account":
            return _money_minor(parts[2])
    return None
