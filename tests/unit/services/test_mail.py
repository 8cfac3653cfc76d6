"""Outgoing mail as a mail client and an SMTP server see it."""

from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

import pytest

from badger.services import mail
from badger.services.mail import FileMailer, Message, SmtpMailer

CLAIM = Message(
    to="ada@example.org",
    subject="Claim your badge: Ethics \u2013 part 1",  # not ASCII: an encoded word
    body="Claim it here:\n\n  https://badges.example.org/claim/abc\n",
)


def test_the_outbox_holds_one_whole_message_per_mail(tmp_path):
    FileMailer(tmp_path / "outbox", "Badger <badges@example.org>").send(CLAIM)
    (path,) = (tmp_path / "outbox").glob("*.eml")
    assert path.stat().st_mode & 0o777 == 0o600  # claim links are secrets
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "ada@example.org"
    assert parsed["From"] == "Badger <badges@example.org>"
    assert parsed["Subject"] == CLAIM.subject
    assert parsed.get_content() == CLAIM.body
    assert parsedate_to_datetime(parsed["Date"]).tzinfo is not None
    assert parsed["Message-ID"].endswith("@example.org>")
    assert parsed["Auto-Submitted"] == "auto-generated"


def test_every_message_has_its_own_id(tmp_path):
    mailer = FileMailer(tmp_path, "badger@localhost")
    mailer.send(CLAIM)
    mailer.send(CLAIM)
    ids = {
        message_from_bytes(p.read_bytes(), policy=policy.default)["Message-ID"]
        for p in tmp_path.glob("*.eml")
    }
    assert len(ids) == 2


class FakeSmtp:
    """Stands in for smtplib.SMTP / SMTP_SSL and records what badger asks of it."""

    made: list["FakeSmtp"] = []

    def __init__(self, host, port, **kwargs):
        self.host, self.port, self.kwargs = host, port, kwargs
        self.calls: list[tuple] = []
        FakeSmtp.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.calls.append(("quit",))

    def starttls(self, context):
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        self.calls.append(("send", message["To"], message["Subject"]))


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSmtp.made = []
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSmtp)
    monkeypatch.setattr(mail.smtplib, "SMTP_SSL", FakeSmtp)
    return FakeSmtp


def test_smtp_url_starts_tls_and_logs_in_with_its_unquoted_credentials(fake_smtp):
    SmtpMailer("smtp://mailer%40example.org:p%40ss@smtp.example.org", "b@example.org").send(CLAIM)
    (client,) = fake_smtp.made
    assert (client.host, client.port, client.kwargs["timeout"]) == ("smtp.example.org", 587, 30)
    assert client.calls == [
        ("starttls",),
        ("login", "mailer@example.org", "p@ss"),
        ("send", "ada@example.org", CLAIM.subject),
        ("quit",),
    ]


def test_smtps_url_connects_over_tls_on_465_without_starttls(fake_smtp):
    SmtpMailer("smtps://smtp.example.org", "b@example.org").send(CLAIM)
    (client,) = fake_smtp.made
    assert client.port == 465
    assert "context" in client.kwargs
    assert client.calls == [("send", "ada@example.org", CLAIM.subject), ("quit",)]
