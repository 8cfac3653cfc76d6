"""A built wheel carries everything badger needs at run time and runs without the source tree."""

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation: build with the installed setuptools, no download.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("badger-*.whl")
    return built


def test_wheel_ships_templates_schemas_migrations_and_static_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "badger/templates/base.html",
        "badger/templates/public/home.html",
        "badger/templates/errors/error.html",
        "badger/schemas/achievement.json",
        "badger/store/migrations/env.py",
        "badger/store/migrations/script.py.mako",
        "badger/store/migrations/versions/0001_initial_schema.py",
        "badger/web/static/badger.css",
    ):
        assert required in names, f"{required} missing from the wheel"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "badger = badger.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_unpacked_wheel_initialises_and_renders_pages(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = textwrap.dedent(
        """
        import badger, sys
        assert badger.__file__.startswith(sys.argv[1]), badger.__file__
        from click.testing import CliRunner
        from badger.cli import main
        result = CliRunner().invoke(main, ["demo", "--admin-password", "correct horse battery"])
        assert result.exit_code == 0, result.output
        app = badger.create_app()
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        page = client.get("/").get_data(as_text=True)
        assert "Institute of Social Media Strategists" in page, page
        assert client.get("/static/badger.css").status_code == 200
        """
    )
    env = {
        "PYTHONPATH": str(site),
        "BADGER_INSTANCE_DIR": str(tmp_path / "instance"),
        "BADGER_KEYS_DIR": str(tmp_path / "keys"),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); exec(sys.argv[2])",
            str(site),
            script,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
