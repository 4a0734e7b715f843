"""A local SMTP server that keeps every message as an `.eml` file, for `make run`.

Nothing leaves the machine: mail the app sends during a local try-out lands in
`instance/mail/`, one file per message, readable with any mail program or a text editor.
"""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger("openings.mail")


class MailFolder:
    """An aiosmtpd handler writing each message it receives to a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{next(self._numbers):04d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        log.info("caught mail to %s: %s", ", ".join(envelope.rcpt_tos), path.name)
        return "250 Message kept"


def start_catcher(folder: Path, port: int, host: str = "127.0.0.1") -> Controller:
    """Start catching mail on host:port in a background thread; stop it with `.stop()`."""
    controller = Controller(MailFolder(folder), hostname=host, port=port)
    controller.start()
    return controller
