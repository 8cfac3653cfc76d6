"""`badger serve` really serves: the development server and gunicorn workers."""

import signal
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
        output = _stop(proc)
    assert f"serving http://127.0.0.1:{port}/" in output


def _stop(proc: subprocess.Popen, timeout: float = 20) -> str:
    """SIGTERM, and the server's output once it has exited; a server that
    outlives ``timeout`` is killed (never left running) and fails the test."""
    proc.terminate()
    try:
        return proc.communicate(timeout=timeout)[0].decode()
    except subprocess.TimeoutExpired:
        proc.kill()
        output = proc.communicate()[0].decode()
        raise AssertionError(f"still running {timeout}s after SIGTERM:\n{output}") from None


_FORK_RACE = """
import os, signal, sys, time
from badger.wsgi import on_starting

handled = []
signal.signal(signal.SIGTERM, lambda *_: handled.append(True))  # as gunicorn's arbiter does
on_starting(None)
pid = os.fork()
if pid == 0:
    time.sleep(10)  # a worker not yet past its own signal set-up
    os._exit(0)
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
os.kill(os.getpid(), signal.SIGTERM)
print(os.WIFSIGNALED(status) and os.WTERMSIG(status), signal.SIGTERM in blocked, handled)
"""


def test_a_stop_signal_right_after_fork_ends_the_child(tmp_path):
    # gunicorn#1910: the child used to run the parent's handler, which only
    # queues the signal, and lingered until the arbiter's graceful timeout.
    result = subprocess.run(
        [sys.executable, "-c", _FORK_RACE],
        capture_output=True,
        text=True,
        check=True,
        timeout=8,
        cwd=tmp_path,
    )
    assert result.stdout.split() == [str(int(signal.SIGTERM)), "False", "[True]"]


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
