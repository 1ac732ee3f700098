"""A real HTTP server on 127.0.0.1 (http.server in a thread) that stands in for a customer's webhook receiver or a
WeCom / DingTalk group robot in the webhook tests.

`Receiver(answers=[...])` answers each POST with the next scripted `Answer` (the last one repeats): a status, a JSON
body, and a delay before answering (longer than the sender's timeout: a timeout). It records every request and, when
given the endpoint's `secret`, checks our signature with the same `verify_signature` a receiver would use, acting
(`acted`) at most once per X-SalesFlow-Delivery event id, as the docs tell receivers to.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pipeline.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify_signature


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: dict | None = None
    delay: float = 0.0


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes
    signature_ok: bool | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    answers: list[Answer] = field(default_factory=lambda: [Answer()])
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    acted: list[str] = field(default_factory=list)  # event ids acted upon, each once

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                request = Received(parts.path, parse_qs(parts.query), self.headers, body)
                if receiver.secret is not None and SIGNATURE_HEADER in self.headers:
                    request.signature_ok = verify_signature(
                        receiver.secret, self.headers[SIGNATURE_HEADER], body, time.time()
                    )
                with receiver._lock:
                    answer = receiver.answers[min(len(receiver.received), len(receiver.answers) - 1)]
                    receiver.received.append(request)
                time.sleep(answer.delay)
                if answer.status < 300 and request.signature_ok is not False:
                    event_id = self.headers.get(DELIVERY_HEADER, "")
                    with receiver._lock:
                        if event_id not in receiver.acted:
                            receiver.acted.append(event_id)
                payload = json.dumps(answer.body or {"ok": True}).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, *args) -> None:
                pass

        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
