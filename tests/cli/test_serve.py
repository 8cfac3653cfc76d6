"""`badger serve` really serves: the development server and gunicorn workers."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BADGER = Path(sys.executable).with_name("badger")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 20) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode())
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                return response.status, response.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout}s")


@pytest.fixture
def instance(tmp_path):
    env = {
        "BADGER_INSTANCE_DIR": str(tmp_path / "instance"),
        "BADGER_KEYS_DIR": str(tmp_path / "keys"),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(
        [str(BADGER), "demo", "--admin-password", "correct horse battery"],
        env=env,
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    return env


@pytest.mark.parametrize("workers", [0, 2])
def test_serve_answers_health_and_home(instance, tmp_path, workers):
    port = _free_port()
    args = [str(BADGER), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        args += ["--workers", str(workers)]
    proc = subprocess.Popen(
        args, env=instance, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        assert status == 200
        assert b'"status":"ok"' in body
        _, home = _wait_for(f"http://127.0.0.1:{port}/", proc)
        assert b"Social Media Strategists" in home
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0].decode()
    assert f"serving http://127.0.0.1:{port}/" in output


def test_serve_with_bad_config_exits_with_one_line(tmp_path):
    env = {
        "BADGER_INSTANCE_DIR": str(tmp_path / "i"),
        "BADGER_BASE_URL": "nope",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [str(BADGER), "serve", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: configuration: BADGER_BASE_URL: 'nope' is not an http(s) URL with a host"
    )


def test_wsgi_application_factory_builds_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("BADGER_INSTANCE_DIR", str(tmp_path / "i"))
    monkeypatch.setenv("BADGER_KEYS_DIR", str(tmp_path / "k"))
    from badger.wsgi import application

    app = application()
    assert app.name == "badger"
    monkeypatch.setenv("BADGER_BASE_URL", "nope")
    with pytest.raises(SystemExit, match="BADGER_BASE_URL"):
        application()
