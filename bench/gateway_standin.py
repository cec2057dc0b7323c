"""A local stand-in of Africa's Talking's bulk SMS endpoint, for benchmarks, tests and demos.

`POST /version1/messaging` with the form the SDK sends (`username`, `to` comma-joined, `message`,
`bulkSMSMode`, `enqueue`, optional `from`) and the `apiKey` header; answers 201 with
`SMSMessageData` and one recipient entry per number, like the real API: by default status 101 and
a fresh `messageId` each. Loopback only.

A plan can make it behave as the real gateway does on a bad day, per request (`Act`): answer each
recipient with any documented statusCode (100-102 accepted with an id, 401-407 and 500-502 refused
without one), or read the request and then hang without answering, or drop the connection; a
request it hangs on or drops may have been taken (the messages go out and are reported) or not,
which the client cannot tell apart. With `report_url` it posts a delivery report for every message
it took, as Africa's Talking does, as soon as it has answered (or before answering, with
`report_first`: the report then always comes before the client knows the id).

It speaks just enough HTTP/1.1 (keep-alive, `Content-Length` bodies) on one asyncio loop, so that
it costs the machine little: the real gateway runs elsewhere, and a benchmark on two cores should
measure the worker, not the stand-in. Run it as a program (below) or in a thread (`StandIn.start`).

    python bench/gateway_standin.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

MESSAGING_PATH = "/version1/messaging"
REASONS = {201: "Created", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed"}
ACCEPTED = {100: "Processed", 101: "Success", 102: "Queued"}
# Every per-recipient statusCode Africa's Talking documents, with its status text.
STATUS_CODES = {
    **ACCEPTED,
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}


@dataclass(frozen=True)
class Act:
    """What the stand-in does with one request, once it has read it whole."""

    then: str = "answer"  # "answer", "hang" (never answer; close when the client gives up), "drop"
    codes: Mapping[str, int] = field(default_factory=dict)  # number -> statusCode (101 otherwise)
    taken: bool = True  # hang/drop: the messages went out (and are reported) before it went wrong


# (request number from 1, the numbers, the message) -> what to do
Plan = Callable[[int, list[str], str], Act]
# (number, message id) -> (delivery status, failure reason)
Delivery = Callable[[str, str], tuple[str, str]]


@dataclass(frozen=True)
class Taken:
    number: str
    message: str
    message_id: str


@dataclass(frozen=True)
class Report:
    message_id: str
    number: str
    status: str
    reason: str
    answered: int  # the HTTP status our callback answered


def _always_answer(_n: int, _numbers: list[str], _message: str) -> Act:
    return Act()


def _success(_number: str, _message_id: str) -> tuple[str, str]:
    return "Success", ""


class StandIn:
    """The stand-in with its plan, what it took and what it reported."""

    def __init__(
        self,
        plan: Plan = _always_answer,
        report_url: str | None = None,
        *,
        report_first: bool = False,
        delivery: Delivery = _success,
        hang_seconds: float = 30.0,
    ) -> None:
        self.plan = plan
        self.report_url = report_url
        self.report_first = report_first
        self.delivery = delivery
        self.hang_seconds = hang_seconds
        self.taken: list[Taken] = []
        self.reports: list[Report] = []
        self.requests = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._posting: list[Future[None]] = []
        self._poster: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    # ----------------------------------------------------------------- what the API answers

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, object, Act, list[Taken]]:
        """The status and JSON payload for one request, what to do, and what it took."""
        if path.split("?", 1)[0].rstrip("/") != MESSAGING_PATH:
            return 404, {"error": "not found"}, Act(), []
        if method != "POST":
            return 405, {"error": "method not allowed"}, Act(), []
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if not headers.get("apikey") or not form.get("username"):
            return 401, {"error": "The supplied authentication is invalid"}, Act(), []
        numbers = [n for n in form.get("to", "").split(",") if n]
        message = form.get("message", "")
        with self._lock:
            self.requests += 1
            n = self.requests
        act = self.plan(n, numbers, message)
        parts = 1 if len(message) <= 160 else -(-len(message) // 153)
        recipients = []
        taken = []
        for number in numbers:
            code = act.codes.get(number, 101)
            message_id = "None"
            if code in ACCEPTED and (act.then == "answer" or act.taken):
                message_id = f"ATXid_{next(self._ids):012d}"
                taken.append(Taken(number, message, message_id))
            recipients.append(
                {
                    "statusCode": code,
                    "number": number,
                    "status": STATUS_CODES.get(code, "Unknown"),
                    "cost": f"KES {0.8 * parts:.4f}" if code in ACCEPTED else "0",
                    "messageId": message_id,
                }
            )
        with self._lock:
            self.taken.extend(taken)
        total = f"{0.8 * parts * len(taken):.4f}"
        return (
            201,
            {
                "SMSMessageData": {
                    "Message": f"Sent to {len(taken)}/{len(numbers)} Total Cost: KES {total}",
                    "Recipients": recipients,
                }
            },
            act,
            taken,
        )

    # ----------------------------------------------------------------- delivery reports

    def _post_report(self, item: Taken) -> None:
        assert self.report_url is not None
        status, reason = self.delivery(item.number, item.message_id)
        form = {"id": item.message_id, "status": status, "phoneNumber": item.number}
        form["networkCode"] = "63902"
        if reason:
            form["failureReason"] = reason
        url = urlsplit(self.report_url)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        try:
            conn.request(
                "POST",
                url.path,
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            answered = conn.getresponse().status
        finally:
            conn.close()
        with self._lock:
            self.reports.append(Report(item.message_id, item.number, status, reason, answered))

    async def _report(self, taken: list[Taken], *, wait: bool) -> None:
        if self.report_url is None or not taken:
            return
        assert self._poster is not None
        futures = [self._poster.submit(self._post_report, item) for item in taken]
        with self._lock:
            self._posting.extend(futures)
        if wait:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))

    def wait_for_reports(self, timeout: float = 30.0) -> None:
        """Until every message taken so far has been reported and the report answered (raises
        what a post raised). A report is posted just after its answer is written, so the client
        can have the answer before the report is on its way."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                futures = list(self._posting)
                done = len(self.reports) >= len(self.taken) or self.report_url is None
            wait_futures(futures, max(0.0, deadline - time.monotonic()))
            for future in futures:
                if future.done():
                    future.result(0)
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        if not done:
            raise TimeoutError(f"{len(self.taken) - len(self.reports)} reports not posted")

    # ----------------------------------------------------------------- HTTP

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, path, _version = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload, act, taken = self.answer(method, path, headers, body)
                if act.then == "drop":
                    await self._report(taken, wait=self.report_first)
                    break
                if act.then == "hang":
                    await self._report(taken, wait=self.report_first)
                    with contextlib.suppress(TimeoutError):  # until the client gives up
                        await asyncio.wait_for(reader.read(), self.hang_seconds)
                    break
                if self.report_first:
                    await self._report(taken, wait=True)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if not self.report_first:
                    await self._report(taken, wait=False)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # the client went away, or sent something that is not HTTP
        finally:
            writer.close()

    async def serve(self, port: int, started: Callable[[int], None] | None = None) -> None:
        self._poster = ThreadPoolExecutor(max_workers=4)
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", port, backlog=256)
        bound = int(self._server.sockets[0].getsockname()[1])
        if started is not None:
            started(bound)
        else:
            print(f"Africa's Talking stand-in on http://127.0.0.1:{bound}{MESSAGING_PATH}")
        async with self._server:
            with contextlib.suppress(asyncio.CancelledError):
                await self._server.serve_forever()

    def start(self) -> str:
        """Serve in a thread of its own, on a free port; returns the API base URL."""
        ready = threading.Event()
        bound: list[int] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()

            def started(port: int) -> None:
                bound.append(port)
                ready.set()

            with contextlib.suppress(RuntimeError, asyncio.CancelledError):  # by `stop`
                self._loop.run_until_complete(self.serve(0, started))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="gateway-standin", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the gateway stand-in did not start")
        return f"http://127.0.0.1:{bound[0]}"

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None:

            def close() -> None:
                server.close()
                for task in asyncio.all_tasks(loop):
                    task.cancel()

            loop.call_soon_threadsafe(close)
        if self._thread is not None:
            self._thread.join(10)
        if self._poster is not None:
            self._poster.shutdown(wait=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(StandIn().serve(args.port))


if __name__ == "__main__":
    main()
