"""Dials the USSD service the way Africa's Talking does, so tests read like a person pressing keys.

Every hop posts the whole session so far in `text` (inputs joined by `*`), with the same `sessionId`,
as a URL-encoded form (the `+` of the phone number encoded as `%2B`). Each answer is checked for what
the gateway needs: 200, `text/plain`, a `CON `/`END ` prefix and a screen of at most 160 characters.
"""

from __future__ import annotations

import itertools
from urllib.parse import urlencode

from flask.testing import FlaskClient

from marketplace.messages.gsm import gsm7_length, is_gsm7

SERVICE_CODE = "*384*1234#"
SECRET = "test-callback-secret"
_sessions = itertools.count(1)


class Dialer:
    def __init__(
        self,
        client: FlaskClient,
        phone: str,
        *,
        service_code: str = SERVICE_CODE,
        secret: str = SECRET,
        network: str = "63902",
    ) -> None:
        self.client = client
        self.phone = phone
        self.service_code = service_code
        self.secret = secret
        self.network = network
        self.session_id = ""
        self.text = ""
        self.body = ""
        self.history: list[str] = []

    # -- what the person does
    def dial(self, shortcut: str = "") -> str:
        """Start a new session; `shortcut` is what follows the service code (`*384*1234*2*1#`)."""
        self.session_id = f"ATUid_test_{next(_sessions)}"
        self.text = shortcut
        return self._hop()

    def press(self, key: str) -> str:
        """Type `key` and send it."""
        assert self.session_id, "dial first"
        assert not self.ended, f"the session already ended: {self.screen!r}"
        self.text = f"{self.text}*{key}" if self.text else key
        return self._hop()

    def repeat(self) -> str:
        """The gateway sends the last hop again."""
        return self._hop()

    # -- what the person sees
    @property
    def screen(self) -> str:
        return self.body[4:]

    @property
    def ended(self) -> bool:
        return self.body.startswith("END ")

    def sees(self, *fragments: str) -> bool:
        return all(f in self.screen for f in fragments)

    # -- the wire
    def form(self, text: str | None = None) -> dict[str, str]:
        return {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.phone,
            "networkCode": self.network,
            "text": self.text if text is None else text,
        }

    def post(self, form: dict[str, str]) -> tuple[int, str, str]:
        response = self.client.post(
            f"/at/{self.secret}/ussd",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
        return response.status_code, response.mimetype or "", response.get_data(as_text=True)

    def _hop(self) -> str:
        status, mimetype, body = self.post(self.form())
        assert status == 200, (status, body)
        assert mimetype == "text/plain", mimetype
        check_body(body)
        self.body = body
        self.history.append(body)
        return self.screen


def check_body(body: str) -> None:
    """What every answer must be: a CON/END prefix and a GSM-7 screen of at most 160 characters."""
    assert body.startswith(("CON ", "END ")), body
    assert is_gsm7(body[4:]), body
    assert gsm7_length(body[4:]) <= 160, (gsm7_length(body[4:]), body)
