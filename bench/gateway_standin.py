"""A local stand-in of Africa's Talking's bulk SMS endpoint, for benchmarks and demos.

`POST /version1/messaging` with the form the SDK sends (`username`, `to` comma-joined, `message`,
`bulkSMSMode`, `enqueue`, optional `from`) and the `apiKey` header; answers 201 with
`SMSMessageData` and one recipient entry (status 101, a fresh `messageId`) per number, like the
real API. Loopback only; counts what it accepted.

    python -m bench.gateway_standin --port 8765
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many workers connect at once; the default 5 drops connections

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.requests = 0
        self.recipients = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="gateway-standin", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: StandinServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not after a delayed ACK

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path.rstrip("/") != "/version1/messaging":
            self._answer(404, {"error": "not found"})
            return
        if not self.headers.get("apiKey") or not form.get("username"):
            self._answer(401, {"error": "The supplied authentication is invalid"})
            return
        numbers = [n for n in form.get("to", "").split(",") if n]
        message = form.get("message", "")
        parts = 1 if len(message) <= 160 else -(-len(message) // 153)
        with self.server.lock:
            first = next(self.server.ids)
            for _ in numbers[1:]:
                next(self.server.ids)
            self.server.requests += 1
            self.server.recipients += len(numbers)
        recipients = [
            {
                "statusCode": 101,
                "number": number,
                "status": "Success",
                "cost": f"KES {0.8 * parts:.4f}",
                "messageId": f"ATXid_{first + i:012d}",
            }
            for i, number in enumerate(numbers)
        ]
        self._answer(
            201,
            {
                "SMSMessageData": {
                    "Message": f"Sent to {len(numbers)}/{len(numbers)} Total Cost: KES "
                    f"{0.8 * parts * len(numbers):.4f}",
                    "Recipients": recipients,
                }
            },
        )

    def _answer(self, status: int, payload: dict[str, object]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = StandinServer(args.port)
    print(f"Africa's Talking stand-in on {server.base_url}/version1/messaging", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
