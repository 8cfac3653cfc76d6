"""badger's own OB 2.0 badges, served by a live badger on 127.0.0.1, through validator-core."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.interop.validator_core import error_messages

pytestmark = pytest.mark.slow
BADGER = Path(sys.executable).with_name("badger")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_badger(tmp_path_factory):
    """A demo badger on a loopback port whose public ids are that port."""
    home = tmp_path_factory.mktemp("live")
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "BADGER_INSTANCE_DIR": str(home / "instance"),
        "BADGER_KEYS_DIR": str(home / "keys"),
        "BADGER_BASE_URL": f"http://127.0.0.1:{port}",
    }

    def cli(*args):
        result = subprocess.run(
            [str(BADGER), *args], env=env, cwd=home, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    cli("demo", "--admin-password", "correct horse battery")
    server = subprocess.Popen(
        [str(BADGER), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield cli
    finally:
        server.terminate()
        server.wait(20)


def _issue(cli, recipient):
    return json.loads(cli("issue", "ethics-disclosure", recipient, "--json"))


def test_hosted_assertion_passes_validator_core(live_badger, validator_core):
    award = _issue(live_badger, "ada@example.org")
    result = validator_core(award["urls"]["ob2-hosted"], recipient="ada@example.org")
    assert result["report"]["valid"], error_messages(result)
    assert result["report"]["errorCount"] == 0


def test_signed_assertion_passes_validator_core(live_badger, validator_core):
    award = _issue(live_badger, "grace@example.org")
    token = live_badger("export", award["id"], "--as", "ob2-signed").strip()
    result = validator_core(token, recipient="grace@example.org")
    assert result["report"]["valid"], error_messages(result)


def test_baked_png_passes_validator_core(live_badger, validator_core, tmp_path):
    award = _issue(live_badger, "lin@example.org")
    png = tmp_path / "badge.png"
    live_badger("export", award["id"], "--as", "ob2-png", "-o", str(png))
    result = validator_core(png.read_bytes(), recipient="lin@example.org")
    assert result["report"]["valid"], error_messages(result)


def test_revoked_hosted_assertion_fails_validator_core(live_badger, validator_core):
    award = _issue(live_badger, "max@example.org")
    live_badger("revoke", award["id"], "--reason", "Issued in error")
    result = validator_core(award["urls"]["ob2-hosted"], recipient="max@example.org")
    assert not result["report"]["valid"]


def test_signed_assertion_on_the_revocation_list_fails_validator_core(live_badger, validator_core):
    # Two revocations: validator-core 1.1.2 misses a list with a single entry
    # (JSON-LD compaction turns the one-item array into an object; see README).
    first = _issue(live_badger, "rev1@example.org")
    second = _issue(live_badger, "rev2@example.org")
    for award in (first, second):
        live_badger("revoke", award["id"], "--reason", "Issued in error")
    token = live_badger("export", second["id"], "--as", "ob2-signed").strip()
    result = validator_core(token, recipient="rev2@example.org")
    assert not result["report"]["valid"]
    assert any("revoked" in m.lower() for m in error_messages(result))
