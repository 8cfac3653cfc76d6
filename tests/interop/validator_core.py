"""Run 1EdTech's openbadges-validator-core (PyPI ``openbadges`` 1.1.2) offline.

Validator-core is the Python reference verifier for Open Badges 2.0. It pins
dependencies that cannot live in badger's environment (jsonschema 2.6, PyLD
0.7, python-jose 3.0, requests-cache 0.4), so it gets a virtualenv of its own,
built once and reused:

* location: ``$BADGER_VALIDATOR_CORE_VENV`` if set, else
  ``<repo>/.cache/validator-core-venv`` (``.cache/`` is git-ignored);
* contents: ``validator-core-requirements.txt`` beside this file, installed
  with ``pip install --no-deps`` from PyPI (see that file for why each pin);
* a marker file in the venv records a successful build together with the
  requirements and interpreter it was built from; while they match, later runs
  reuse the venv without touching the network. Delete the folder to rebuild.

API (all a test needs; conftest.py wraps it in fixtures)::

    from tests.interop.validator_core import (
        ValidatorCoreUnavailable, run_validator, error_messages)

    try:
        result = run_validator("http://127.0.0.1:8123/assertions/1",
                               recipient="learner@example.org")
    except ValidatorCoreUnavailable as exc:
        pytest.skip(str(exc))
    assert result["report"]["valid"], error_messages(result)

In a test under tests/interop/, the fixtures do the skipping and serving::

    def test_x(validator_core, badge_server):          # conftest.py fixtures
        url = badge_server.serve_json("/a/1", assertion)  # -> http://127.0.0.1:<port>/a/1
        result = validator_core(url, recipient="learner@example.org")

``run_validator(input)`` takes what validator-core takes: an assertion URL, an
assertion's JSON text, a compact JWS, or (as ``bytes``) a baked PNG/SVG. It
returns validator-core's own result unchanged: ``{"graph": [...nodes],
"input": {"value", "input_type"}, "report": {"valid", "errorCount",
"warningCount", "messages": [{"name", "result", "messageLevel", "success",
...}], "validationSubject", "openBadgesVersion", "recipientProfile"?}}``.
Only failed checks appear in ``messages``. A driver crash or timeout raises
``ValidatorCoreError``.

Offline: the driver (``validator_core_driver.py``) serves the OB 2.0 JSON-LD
context (``https://w3id.org/openbadges/v2`` and
``https://openbadgespec.org/v2/context.json``) from badger's bundled copy and
refuses every host outside ``allowed_hosts`` (loopback by default), so
everything else — assertion, BadgeClass, issuer, images, keys, revocation
list — must be served from a local test server.

Read validator-core's messages, not only ``valid``: 1.1.2 has two known blind
spots (see the xfail tests): ``revoked: true`` / 410 on a hosted assertion is
not reported as revoked (issue #236, FACTS.md §1.8), and a RevocationList whose
``revokedAssertions`` has exactly one entry never matches (JSON-LD compaction
turns the one-element list into a scalar, which crypto.py then iterates).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
REQUIREMENTS = HERE / "validator-core-requirements.txt"
DRIVER = HERE / "validator_core_driver.py"
OB2_CONTEXT = REPO_ROOT / "badger" / "proofs" / "contexts" / "openbadges-v2-context.json"
OB2_CONTEXT_URLS = (
    "https://w3id.org/openbadges/v2",
    "https://openbadgespec.org/v2/context.json",
)
ENV_VAR = "BADGER_VALIDATOR_CORE_VENV"
DEFAULT_VENV = REPO_ROOT / ".cache" / "validator-core-venv"
MARKER_NAME = ".badger-validator-core-ok"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

BUILD_TIMEOUT = 900  # seconds for `pip install` on a cold cache (sdists build)
RUN_TIMEOUT = 120  # seconds for one validator-core run


class ValidatorCoreUnavailable(RuntimeError):
    """Validator-core's virtualenv could not be built; tests should skip."""


class ValidatorCoreError(RuntimeError):
    """The driver ran but failed (crash, timeout, unreadable output)."""


def venv_dir() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_VENV)


def venv_python(venv: Path | None = None) -> Path:
    return (venv or venv_dir()) / "bin" / "python"


def _fingerprint() -> str:
    # Only the pins count, so editing the comments does not force a rebuild.
    lines = REQUIREMENTS.read_text().splitlines()
    pins = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    digest = hashlib.sha256("\n".join(pins).encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return errors[-1] if errors else (lines[-1] if lines else "no output")


def _run(cmd: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    env = _child_env(offline=False)  # pip needs whatever proxy settings reach PyPI
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidatorCoreUnavailable(f"{what} timed out after {timeout:.0f}s") from exc
    except OSError as exc:
        raise ValidatorCoreUnavailable(f"{what} could not start: {exc}") from exc
    if proc.returncode != 0:
        raise ValidatorCoreUnavailable(
            f"{what} failed: {_last_error_line(proc.stderr + proc.stdout)}"
        )
    return proc


def _child_env(*, offline: bool) -> dict[str, str]:
    # COV_CORE_*: pytest-cov would start coverage in `python -m venv`; badger is not there.
    dropped: tuple[str, ...] = ("PYTHON", "VIRTUAL_ENV", "COV_CORE_")
    if offline:  # loopback requests must never be sent to a proxy
        dropped += ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(dropped)}
    if offline:
        env["NO_PROXY"] = env["no_proxy"] = "*"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


_build_error: ValidatorCoreUnavailable | None = None


def ensure_venv() -> Path:
    """Build validator-core's virtualenv once; return its python.

    Raises ValidatorCoreUnavailable (remembered for the rest of the process, so
    a failing build is tried only once per test session).
    """
    global _build_error
    if _build_error is not None:
        raise _build_error
    venv = venv_dir()
    marker = venv / MARKER_NAME
    fingerprint = _fingerprint()
    if marker.is_file() and marker.read_text().split("\n", 1)[0] == fingerprint:
        return venv_python(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv.parent / (venv.name + ".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building it
        try:
            if marker.is_file() and marker.read_text().split("\n", 1)[0] == fingerprint:
                return venv_python(venv)
            _build(venv, marker, fingerprint)
        except ValidatorCoreUnavailable as exc:
            _build_error = exc
            raise
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return venv_python(venv)


def _build(venv: Path, marker: Path, fingerprint: str) -> None:
    if venv.exists():
        # Only ever delete something that is recognisably a virtualenv.
        if not (venv / "pyvenv.cfg").is_file() and any(venv.iterdir()):
            raise ValidatorCoreUnavailable(
                f"{venv} exists and is not a virtualenv; not touching it"
            )
        shutil.rmtree(venv)
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)], 120, "creating the validator-core venv")
    python = str(venv_python(venv))
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--no-deps",
            "-r",
            str(REQUIREMENTS),
        ],
        BUILD_TIMEOUT,
        "pip install openbadges==1.1.2",
    )
    check = _run([python, "-I", str(DRIVER), "--self-check"], 60, "importing validator-core")
    version = json.loads(check.stdout)["version"]
    marker.write_text(
        f"{fingerprint}\nopenbadges {'.'.join(map(str, version))} on {sys.version.split()[0]}"
        f", built in {time.monotonic() - started:.0f}s\n"
    )


def run_validator(
    input: str | bytes,
    *,
    recipient: str | Mapping[str, Any] | None = None,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    timeout: float = RUN_TIMEOUT,
) -> dict[str, Any]:
    """Verify one badge with validator-core and return its result dict.

    input: assertion URL, assertion JSON text, compact JWS, or baked image bytes.
    recipient: an e-mail address, or a recipient Profile dict such as
        ``{"url": "https://..."}`` (validator-core's ``recipient_profile``).
    allowed_hosts: hosts validator-core may reach; all others are refused.
    """
    python = ensure_venv()
    config: dict[str, Any] = {
        "allowed_hosts": list(allowed_hosts),
        "contexts": {url: str(OB2_CONTEXT) for url in OB2_CONTEXT_URLS},
        "request_timeout": min(10.0, timeout),
        "recipient": {"email": recipient} if isinstance(recipient, str) else recipient,
    }
    if isinstance(input, bytes):
        config["input_b64"] = base64.b64encode(input).decode("ascii")
    else:
        config["input"] = input
    try:
        proc = subprocess.run(
            [str(python), "-I", str(DRIVER)],
            input=json.dumps(config),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_child_env(offline=True),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidatorCoreError(f"validator-core did not finish within {timeout:.0f}s") from exc
    if proc.returncode != 0:
        raise ValidatorCoreError(
            f"validator-core driver exited {proc.returncode}: {_last_error_line(proc.stderr)}"
        )
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        raise ValidatorCoreError(
            f"unreadable validator-core output: {proc.stdout[:200]!r}"
        ) from exc


def error_messages(result: Mapping[str, Any], level: str = "ERROR") -> list[str]:
    """The ``result`` texts of validator-core's messages at ``level``."""
    return [
        f"{m.get('name')}: {m.get('result')}"
        for m in result["report"]["messages"]
        if m.get("messageLevel") == level
    ]
