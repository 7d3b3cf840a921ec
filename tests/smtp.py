"""A real SMTP server for tests: slow on purpose, and counting what it received."""

from __future__ import annotations

import email
import socketserver
import threading
import time


class SlowSMTPServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP for Django's backend; waits before accepting DATA, as busy relays do."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.delay = delay
        self.reject = False
        self.subjects: list[str] = []
        # Set while a message is in transit: a test can act in the middle of a send.
        self.sending = threading.Event()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def received(self, raw: bytes) -> None:
        with self._lock:
            self.subjects.append(str(email.message_from_bytes(raw)["Subject"]))


class _SMTPHandler(socketserver.StreamRequestHandler):
    server: SlowSMTPServer

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in {b"EHLO", b"HELO"}:
                self.reply("250 localhost")
            elif verb in {b"MAIL", b"RCPT", b"RSET", b"NOOP"}:
                self.reply("250 OK")
            elif verb == b"DATA":
                self.server.sending.set()
                time.sleep(self.server.delay)
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.read_message()
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def read_message(self) -> None:
        lines = []
        while (line := self.rfile.readline()) not in {b".\r\n", b""}:
            lines.append(line[1:] if line.startswith(b"..") else line)
        if self.server.reject:
            self.reply("554 Transaction failed")
            return
        self.server.received(b"".join(lines))
        self.reply("250 OK queued")
