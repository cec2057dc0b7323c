"""A local stand-in of Africa's Talking's bulk SMS endpoint, for benchmarks and demos.

`POST /version1/messaging` with the form the SDK sends (`username`, `to` comma-joined, `message`,
`bulkSMSMode`, `enqueue`, optional `from`) and the `apiKey` header; answers 201 with
`SMSMessageData` and one recipient entry (status 101, a fresh `messageId`) per number, like the
real API. Loopback only.

It speaks just enough HTTP/1.1 (keep-alive, `Content-Length` bodies) on one asyncio loop, so that
it costs the machine little: the real gateway runs elsewhere, and a benchmark on two cores should
measure the worker, not the stand-in.

    python bench/gateway_standin.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
from urllib.parse import parse_qs

MESSAGING_PATH = "/version1/messaging"
REASONS = {201: "Created", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed"}
_ids = itertools.count(1)


def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
    """The status and JSON payload for one request."""
    if path.split("?", 1)[0].rstrip("/") != MESSAGING_PATH:
        return 404, {"error": "not found"}
    if method != "POST":
        return 405, {"error": "method not allowed"}
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    if not headers.get("apikey") or not form.get("username"):
        return 401, {"error": "The supplied authentication is invalid"}
    numbers = [n for n in form.get("to", "").split(",") if n]
    message = form.get("message", "")
    parts = 1 if len(message) <= 160 else -(-len(message) // 153)
    recipients = [
        {
            "statusCode": 101,
            "number": number,
            "status": "Success",
            "cost": f"KES {0.8 * parts:.4f}",
            "messageId": f"ATXid_{next(_ids):012d}",
        }
        for number in numbers
    ]
    total = f"{0.8 * parts * len(numbers):.4f}"
    return 201, {
        "SMSMessageData": {
            "Message": f"Sent to {len(numbers)}/{len(numbers)} Total Cost: KES {total}",
            "Recipients": recipients,
        }
    }


async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
            status, payload = answer(method, path, headers, body)
            data = json.dumps(payload).encode()
            writer.write(
                f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass  # the client went away, or sent something that is not HTTP
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(_connection, "127.0.0.1", port, backlog=256)
    print(f"Africa's Talking stand-in on http://127.0.0.1:{port}{MESSAGING_PATH}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
