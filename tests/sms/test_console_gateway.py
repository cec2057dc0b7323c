"""The console backend `make run` uses: every message on a line of its own."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

from sms.gateway import ConsoleGateway, Outcome


class SlowTerminal(io.StringIO):
    """A terminal takes a moment per write, so another thread gets in between two writes."""

    def write(self, text: str) -> int:
        time.sleep(0.0005)
        return super().write(text)


def test_messages_sent_from_several_threads_each_print_on_a_line_of_their_own():
    terminal = SlowTerminal()
    gateway = ConsoleGateway(terminal)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda i: gateway.send(f"Ujuzi: message {i}", [f"+2547110000{i:02d}"]), range(40)
            )
        )

    lines = terminal.getvalue().splitlines()
    assert sorted(lines) == sorted(
        f"[SMS to +2547110000{i:02d}] Ujuzi: message {i}" for i in range(40)
    )
    assert {r.outcome for [r] in results} == {Outcome.ACCEPTED}
    assert len({r.message_id for [r] in results}) == 40
