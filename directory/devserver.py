"""`make run`: the whole app on one machine — web, scheduler and a mail catcher — until Ctrl-C.

Usage: python -m directory.devserver [--port 5000] [--mail-port 1025]

It prepares the SQLite database in `instance/` (migrations, then demo data once), starts the
mail catcher in this process and the web app and the scheduler as child processes, and stops
them all when one of them stops or when it is interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import ROOT
from .mailcatcher import start_catcher

DEVELOPMENT_CONFIG = '''"""Settings of this local checkout, written by `make run`. See the README's table."""

ENVIRONMENT = "development"
'''


def main(argv: list[str] | None = None) -> int:
    """Prepare the database, start everything, and wait; the exit status is the first failure's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--mail-port", type=int, default=1025)
    options = parser.parse_args(argv)

    instance = Path(os.environ.get("FLASK_INSTANCE_PATH") or ROOT / "instance")
    instance.mkdir(parents=True, exist_ok=True)
    config_file = instance / "config.py"
    if not config_file.exists():
        config_file.write_text(DEVELOPMENT_CONFIG)
    env = dict(os.environ, FLASK_MAIL_SERVER='"127.0.0.1"', FLASK_MAIL_PORT=str(options.mail_port))
    env.setdefault("FLASK_BASE_URL", f'"http://127.0.0.1:{options.port}"')
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]

    for step in (["db", "upgrade"], ["demo", "load"]):
        if subprocess.run([*flask, *step], cwd=ROOT, env=env).returncode != 0:
            return 1

    mail_folder = instance / "mail"
    try:
        catcher = start_catcher(mail_folder, options.mail_port)
    except OSError as error:
        print(f"openings: cannot start the mail catcher on port {options.mail_port}: {error}")
        return 1
    children = [
        subprocess.Popen([*flask, "scheduler", "run"], cwd=ROOT, env=env),
        subprocess.Popen(
            [*flask, "run", "--host", "127.0.0.1", "--port", str(options.port)], cwd=ROOT, env=env
        ),
    ]
    print(
        f"\nOpenings: http://127.0.0.1:{options.port}/  — mail it sends is kept in {mail_folder}/"
        "\nCtrl-C stops the web app, the scheduler and the mail catcher.\n",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    status = 0
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        status = next(child.returncode for child in children if child.poll() is not None)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(children)
        catcher.stop()
    return status


STOP_GRACE_SECONDS = 25
"""How long a job in progress (a feed fetch, a batch of mail) may take to finish on Ctrl-C."""


def _interrupt(signum: int, frame: object) -> None:
    """Treat SIGTERM like Ctrl-C, so both stop the children the same way."""
    raise KeyboardInterrupt


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(
                f"{' '.join(map(str, child.args))} did not stop within "
                f"{STOP_GRACE_SECONDS} s; killed",
                file=sys.stderr,
            )
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
