"""A real badger server on 127.0.0.1 with the demo data, for browsers.

Used by the browser tests (``tests/browser/conftest.py``) and by
``scripts/screenshots.py``.  It is what ``badger serve`` runs in development:
a threaded WSGI server in front of ``build_app``, a temporary instance folder,
its own SQLite database (migrated), file keys and a file outbox, loaded with
``badger demo``'s data plus one issued badge.  Nothing here is test-only
wiring: the pages a browser sees are the ones a user would.
"""

from __future__ import annotations

import email
import logging
import re
import threading
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from badger.config import load_settings
from badger.services import demo, issue, setup
from badger.services.context import Context, build_context
from badger.web.app import build_app

ADMIN_EMAIL = "admin@ismsx.example.org"
ADMIN_PASSWORD = "browser admin password"
LEARNER_EMAIL = "ada@example.org"
LEARNER_PASSWORD = "browser learner password"
OTHER_LEARNER_EMAIL = "grace@example.org"
SHOWCASE_ACHIEVEMENT = "social-analytics-101"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    url: str
    context: Context
    outbox: Path
    award_id: str
    server: BaseWSGIServer
    thread: threading.Thread
    seen_mail: set[str] = field(default_factory=set)

    def page(self, path: str) -> str:
        return self.url + "/" + path.lstrip("/")

    def mails(self, to: str | None = None) -> list[Message]:
        """Every message in the file outbox (oldest first), optionally only to one address."""
        files = sorted(self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        out = []
        for path in files:
            message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
            if to is None or to.lower() in str(message["To"]).lower():
                out.append(message)
        return out

    def links_in_mail(self, to: str, path_prefix: str) -> list[str]:
        """Links under this server whose path starts with ``path_prefix``, newest mail first."""
        pattern = re.compile(re.escape(self.url + path_prefix) + r"[^\s\"'<>]*")
        found: list[str] = []
        for message in reversed(self.mails(to)):
            body = message.get_body(preferencelist=("plain", "html"))
            text = body.get_content() if body is not None else ""
            found.extend(pattern.findall(text))
        return found

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        self.context.engine.dispose()


def start_live_server(root: Path, *, host: str = "127.0.0.1", port: int = 0) -> LiveServer:
    """Serve a fresh demo instance under ``root`` until :meth:`LiveServer.stop`."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Bind first: the public base URL (every id in an issued badge) needs the port.
    server = make_server(host, port, _not_ready, threaded=True)
    base_url = f"http://{host}:{server.server_port}"
    try:
        context, award_id = _demo_instance(root, base_url)
    except BaseException:
        server.server_close()
        raise
    server.app = build_app(context=context)
    thread = threading.Thread(target=server.serve_forever, name="badger-live", daemon=True)
    thread.start()
    return LiveServer(
        url=base_url,
        context=context,
        outbox=context.settings.instance_dir / "outbox",
        award_id=award_id,
        server=server,
        thread=thread,
    )


def _demo_instance(root: Path, base_url: str) -> tuple[Context, str]:
    """A migrated instance with `badger demo`'s data and one badge issued to Ada."""
    settings = load_settings(
        environ={},
        overrides={
            "env": "development",
            "instance_dir": root / "instance",
            "keys_dir": root / "keys",
            "base_url": base_url,
            "mail_backend": "file",
            # One browser makes many sign-ins a minute; the limits have their own tests.
            "rate_limits": "off",
        },
    )
    context = build_context(settings)
    setup.initialize(
        context,
        issuer=setup.IssuerInput(
            slug=settings.issuer_slug,
            name=demo.DEMO_ISSUER["name"],
            url=demo.DEMO_ISSUER["url"],
            email=demo.DEMO_ISSUER["email"],
            id_method="did:key",
        ),
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        admin_name="Demo Administrator",
    )
    demo.load_demo(context, learner_password=LEARNER_PASSWORD)
    award = issue.issue_award(
        context,
        issue.IssueRequest(
            achievement=SHOWCASE_ACHIEVEMENT,
            recipient=LEARNER_EMAIL,
            recipient_name="Ada Strategist",
            narrative="Completed the course and its analytics project.",
        ),
        actor="demo",
    )
    return context, award.public_id


def _not_ready(environ: object, start_response: object) -> list[bytes]:  # pragma: no cover
    raise RuntimeError("the live server answers only after the app is built")
