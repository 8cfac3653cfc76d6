import json
import stat

import pytest

from badger.config import ConfigError, load_settings


def load(tmp_path, environ=None, **overrides):
    env = {"BADGER_INSTANCE_DIR": str(tmp_path / "inst"), "BADGER_KEYS_DIR": str(tmp_path / "k")}
    env.update(environ or {})
    return load_settings(environ=env, overrides=overrides)


def test_defaults_are_an_embedded_sqlite_instance(tmp_path):
    s = load(tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'inst' / 'badger.db'}"
    assert s.base_url == "http://127.0.0.1:5000"
    assert s.env == "development"


def test_generated_secrets_are_private_and_reused(tmp_path):
    first = load(tmp_path)
    path = tmp_path / "inst" / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load(tmp_path)
    assert first.secret("session") == second.secret("session")
    assert len({first.secret(p) for p in ("session", "claim", "email", "api_token")}) == 4
    assert first.key_passphrases == second.key_passphrases
    assert "key_passphrase" in json.loads(path.read_text())


def test_environment_overrides_and_trailing_slash_is_dropped(tmp_path):
    s = load(
        tmp_path,
        {"BADGER_BASE_URL": "https://badges.example.org/", "BADGER_KEY_PASSPHRASE": "new,old"},
    )
    assert s.base_url == "https://badges.example.org"
    assert s.url("/a/b") == "https://badges.example.org/a/b"
    assert s.key_passphrases == (b"new", b"old")


def test_postgres_urls_get_the_psycopg_driver(tmp_path):
    s = load(tmp_path, {"BADGER_DATABASE_URL": "postgres://u@db/badger"})
    assert s.database_url == "postgresql+psycopg://u@db/badger"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BADGER_BASE_URL": "ftp://x"}, "BADGER_BASE_URL"),
        ({"BADGER_BASE_URL": "https://x/?q=1"}, "BADGER_BASE_URL"),
        ({"BADGER_DATABASE_URL": "mysql://x/y"}, "BADGER_DATABASE_URL"),
        ({"BADGER_DATABASE_URL": "nonsense"}, "BADGER_DATABASE_URL"),
        ({"BADGER_ENV": "staging"}, "BADGER_ENV"),
        ({"BADGER_MAX_UPLOAD_BYTES": "lots"}, "BADGER_MAX_UPLOAD_BYTES"),
        ({"BADGER_SESSION_COOKIE_SECURE": "perhaps"}, "BADGER_SESSION_COOKIE_SECURE"),
        ({"BADGER_MAIL_BACKEND": "pigeon"}, "BADGER_MAIL_BACKEND"),
        ({"BADGER_MAIL_BACKEND": "smtp"}, "BADGER_SMTP_URL"),
        ({"BADGER_SECRET_SESSION": "short"}, "BADGER_SECRET_SESSION"),
    ],
)
def test_bad_settings_give_one_line_naming_the_variable(tmp_path, environ, message):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, environ)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unwritable_instance_dir_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    with pytest.raises(ConfigError, match="BADGER_INSTANCE_DIR"):
        load_settings(environ={"BADGER_INSTANCE_DIR": str(blocker / "sub")})


def test_production_refuses_generated_secrets(tmp_path):
    with pytest.raises(ConfigError, match="BADGER_SECRET_SESSION"):
        load(tmp_path, {"BADGER_ENV": "production", "BADGER_BASE_URL": "https://b.example.org"})


def test_production_requires_https_base_url(tmp_path):
    with pytest.raises(ConfigError, match="https"):
        load(tmp_path, {"BADGER_ENV": "production"})


def test_production_with_everything_configured_starts(tmp_path):
    environ = {
        "BADGER_ENV": "production",
        "BADGER_BASE_URL": "https://b.example.org",
        "BADGER_KEY_PASSPHRASE": "a-long-passphrase",
        **{f"BADGER_SECRET_{p}": "s" * 32 for p in ("SESSION", "CLAIM", "EMAIL", "API_TOKEN")},
    }
    s = load(tmp_path, environ)
    assert s.session_cookie_secure is True
    assert not (tmp_path / "inst" / "secrets.json").exists()


def test_instance_toml_is_read_below_the_environment(tmp_path):
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "badger.toml").write_text(
        'base_url = "https://toml.example.org"\nissuer_slug = "isms"\n'
    )
    s = load(tmp_path, {"BADGER_ISSUER": "env-wins"})
    assert s.base_url == "https://toml.example.org"
    assert s.issuer_slug == "env-wins"


def test_broken_toml_and_unknown_keys_are_reported(tmp_path):
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "badger.toml").write_text("base_url = ")
    with pytest.raises(ConfigError, match=r"badger\.toml"):
        load(tmp_path)
    (inst / "badger.toml").write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="colour"):
        load(tmp_path)
