"""A minimal SMTP server on loopback for integration tests: it accepts every message and keeps it.

Speaks just enough SMTP for smtplib and Django's SMTP backend: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no
TLS, no AUTH. Use it as a context manager; `messages` holds what arrived, in order.
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass

ADDRESS = re.compile(r"<([^>]*)>")


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    recipients: list[str]
    data: bytes  # the message as sent, dot-stuffing undone, lines ending in CRLF


class _Session(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, *lines: str) -> None:
        """One reply; several lines become a multi-line reply (250-first, 250 last)."""
        code, texts = lines[0][:3], [line[4:] for line in lines]
        payload = "".join(f"{code}-{text}\r\n" for text in texts[:-1]) + f"{code} {texts[-1]}\r\n"
        self.wfile.write(payload.encode("ascii"))
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 localhost SalesFlow test SMTP sink")
        mail_from: str | None = None
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, argument = command[:4].upper(), command[4:].strip()
            if verb == "EHLO":
                self.reply("250 localhost", "250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "MAIL":
                self.server.on_mail()
                found = ADDRESS.search(argument)
                mail_from, recipients = (found.group(1) if found else ""), []
                self.reply("250 OK")
            elif verb == "RCPT":
                found = ADDRESS.search(argument)
                if mail_from is None or not found:
                    self.reply("503 MAIL first, then RCPT TO:<address>")
                else:
                    recipients.append(found.group(1))
                    self.reply("250 OK")
            elif verb == "DATA":
                if not recipients:
                    self.reply("503 RCPT first")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.server.keep(ReceivedMessage(mail_from or "", recipients, self._read_data()))
                mail_from, recipients = None, []
                self.reply("250 OK: queued")
            elif verb == "RSET":
                mail_from, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)


class SmtpSink(socketserver.ThreadingTCPServer):
    """`with SmtpSink() as sink:` listens on 127.0.0.1 at `sink.port` until the block ends."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="smtp-sink", daemon=True)

    @property
    def host(self) -> str:
        return self.server_address[0]

    @property
    def port(self) -> int:
        return self.server_address[1]

    def on_mail(self) -> None:
        """Called as each MAIL command arrives, before the reply: a test can hold a sender here mid-message."""

    def keep(self, message: ReceivedMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
