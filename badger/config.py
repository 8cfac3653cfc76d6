"""Settings: defaults < ``instance/badger.toml`` < ``BADGER_*`` environment < overrides.

Everything badger reads from its environment is named here, validated once at
start-up and frozen.  A bad value raises :class:`ConfigError` whose message is a
single line naming the setting, so the CLI and the WSGI entry point can print it
and exit instead of showing a traceback.

Secrets follow Warehouse's habit of one secret per purpose.  In the embedded
(development) mode they are generated on first run and kept in
``instance/secrets.json`` (mode 0600); production refuses to start without
them configured.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SECRET_PURPOSES = ("session", "claim", "email", "api_token")
ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line for humans."""


@dataclass(frozen=True)
class Settings:
    """Every setting badger knows.  Build it with :func:`load_settings`."""

    env: str = "development"
    instance_dir: Path = Path("instance")
    database_url: str = ""
    base_url: str = "http://127.0.0.1:5000"
    keys_dir: Path = Path("keys")
    key_passphrases: tuple[bytes, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    issuer_slug: str = "default"
    mail_backend: str = "file"
    mail_from: str = "badger@localhost"
    smtp_url: str = ""
    max_upload_bytes: int = 2 * 1024 * 1024
    vc_jwt_alg: str = "ES256"
    redis_url: str = ""
    # "" = built-in limits; "off"; or overrides like "login=5/minute;50/hour,verify=60/minute"
    rate_limits: str = ""
    page_cache_seconds: int = 10
    verify_allow_networks: tuple[str, ...] = ()
    session_cookie_secure: bool = False
    log_level: str = "INFO"

    def secret(self, purpose: str) -> str:
        """The secret for one purpose (session, claim, email, api_token)."""
        return self.secrets[purpose]

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def url(self, path: str) -> str:
        """An absolute public URL under ``base_url`` (every public id uses this)."""
        return self.base_url + "/" + path.lstrip("/")


# name in Settings -> (environment variable, parser)
def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _int(value: str) -> int:
    return int(value)


def _networks(value: str) -> tuple[str, ...]:
    out = []
    for part in value.split(","):
        part = part.strip()
        if part:
            out.append(str(ipaddress.ip_network(part, strict=False)))
    return tuple(out)


_ENV_NAMES: dict[str, tuple[str, Any]] = {
    "env": ("BADGER_ENV", str),
    "instance_dir": ("BADGER_INSTANCE_DIR", Path),
    "database_url": ("BADGER_DATABASE_URL", str),
    "base_url": ("BADGER_BASE_URL", str),
    "keys_dir": ("BADGER_KEYS_DIR", Path),
    "issuer_slug": ("BADGER_ISSUER", str),
    "mail_backend": ("BADGER_MAIL_BACKEND", str),
    "mail_from": ("BADGER_MAIL_FROM", str),
    "smtp_url": ("BADGER_SMTP_URL", str),
    "max_upload_bytes": ("BADGER_MAX_UPLOAD_BYTES", _int),
    "vc_jwt_alg": ("BADGER_VC_JWT_ALG", str),
    "redis_url": ("BADGER_REDIS_URL", str),
    "rate_limits": ("BADGER_RATE_LIMITS", str),
    "page_cache_seconds": ("BADGER_PAGE_CACHE_SECONDS", _int),
    "verify_allow_networks": ("BADGER_VERIFY_ALLOW_NETWORKS", _networks),
    "session_cookie_secure": ("BADGER_SESSION_COOKIE_SECURE", _bool),
    "log_level": ("BADGER_LOG_LEVEL", str),
}

ENV_DOCS: dict[str, str] = {
    "BADGER_ENV": "development (default: generated secrets allowed) | production | testing",
    "BADGER_INSTANCE_DIR": "folder for the SQLite database, generated secrets and outbox (default ./instance)",
    "BADGER_DATABASE_URL": "SQLAlchemy URL (default sqlite:///<instance>/badger.db; postgresql+psycopg://… in production)",
    "BADGER_BASE_URL": "public origin used in every id and link (default http://127.0.0.1:5000)",
    "BADGER_KEYS_DIR": "folder for encrypted issuer key files (default ./keys)",
    "BADGER_KEY_PASSPHRASE": "passphrase(s) encrypting private keys, newest first, comma-separated (generated in development)",
    "BADGER_SECRET_<PURPOSE>": "SESSION, CLAIM, EMAIL, API_TOKEN secrets (generated in development; required in production)",
    "BADGER_ISSUER": "slug of the issuer this deployment serves by default (default 'default')",
    "BADGER_MAIL_BACKEND": "file (default: instance/outbox/*.eml) | console | smtp",
    "BADGER_MAIL_FROM": "sender address for mail",
    "BADGER_SMTP_URL": "smtp://user:pass@host:port (with BADGER_MAIL_BACKEND=smtp)",
    "BADGER_MAX_UPLOAD_BYTES": "largest accepted upload (default 2 MiB)",
    "BADGER_REDIS_URL": "redis://127.0.0.1:6379/0 to run bulk jobs in `badger worker` processes (default: in-process)",
    "BADGER_RATE_LIMITS": "per-client limits: off, or overrides such as login=5/minute;50/hour,verify=60/minute (names: login, password_reset, signup, claim, verify; counted in Redis when BADGER_REDIS_URL is set)",
    "BADGER_PAGE_CACHE_SECONDS": "seconds an anonymous badge page or /verify?url= answer is reused per worker (default 10; 0 turns it off)",
    "BADGER_VERIFY_ALLOW_NETWORKS": "networks the verifier may fetch from although private (e.g. 10.0.0.0/8); default none",
    "BADGER_VC_JWT_ALG": "ES256 (default: fast, accepted by the 1EdTech validator) or RS256 (the algorithm every OB 3.0 verifier must support)",
    "BADGER_SESSION_COOKIE_SECURE": "true behind HTTPS (production default true)",
    "BADGER_LOG_LEVEL": "logging level (default INFO)",
    "BADGER_ADMIN_EMAIL / BADGER_ADMIN_PASSWORD": "first admin for `badger init` without prompts",
}


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    create_dirs: bool = True,
) -> Settings:
    """Resolve, validate and freeze the settings.

    ``environ`` defaults to :data:`os.environ`; ``overrides`` (tests, the CLI)
    win over everything.  Generated development secrets are written to the
    instance folder on first use and reused afterwards.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}

    instance_dir = Path(
        overrides.get("instance_dir") or environ.get("BADGER_INSTANCE_DIR") or "instance"
    )
    values.update(_read_toml(instance_dir / "badger.toml"))

    for name, (env_name, parse) in _ENV_NAMES.items():
        raw = environ.get(env_name)
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{env_name}: {exc}") from None
    values.update(overrides)
    values["instance_dir"] = instance_dir

    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")

    settings = replace(Settings(), **values)
    settings = _validate(settings, create_dirs=create_dirs)
    return _with_secrets(settings, environ, create_dirs=create_dirs)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read settings file ({exc})") from None
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in {"instance_dir", "keys_dir"}:
            value = Path(value)
        out[key] = value
    return out


def _validate(settings: Settings, *, create_dirs: bool) -> Settings:
    if settings.env not in ENVIRONMENTS:
        raise ConfigError(f"BADGER_ENV: must be one of {', '.join(ENVIRONMENTS)}")

    base = settings.base_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"BADGER_BASE_URL: {settings.base_url!r} is not an http(s) URL with a host"
        )
    if parts.query or parts.fragment:
        raise ConfigError("BADGER_BASE_URL: must not carry a query or fragment")
    if settings.is_production and parts.scheme != "https":
        raise ConfigError("BADGER_BASE_URL: production requires an https:// base URL")

    instance_dir = settings.instance_dir.expanduser().resolve()
    keys_dir = settings.keys_dir.expanduser().resolve()
    if create_dirs:
        _ensure_writable_dir(instance_dir, "BADGER_INSTANCE_DIR")
        _ensure_writable_dir(keys_dir, "BADGER_KEYS_DIR", mode=0o700)

    database_url = settings.database_url or f"sqlite:///{instance_dir / 'badger.db'}"
    scheme = database_url.split(":", 1)[0].split("+", 1)[0]
    if "://" not in database_url or scheme not in {"sqlite", "postgresql", "postgres"}:
        raise ConfigError(
            f"BADGER_DATABASE_URL: {database_url!r} is not a sqlite:// or postgresql:// URL"
        )
    if scheme == "postgres":
        # SQLAlchemy dropped the "postgres" alias; Heroku-style URLs still use it.
        database_url = "postgresql" + database_url[len("postgres") :]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    if settings.mail_backend not in {"file", "console", "smtp"}:
        raise ConfigError("BADGER_MAIL_BACKEND: must be file, console or smtp")
    if settings.mail_backend == "smtp" and not settings.smtp_url:
        raise ConfigError("BADGER_SMTP_URL: required when BADGER_MAIL_BACKEND=smtp")
    if settings.redis_url and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise ConfigError("BADGER_REDIS_URL: must be a redis://, rediss:// or unix:// URL")
    if settings.vc_jwt_alg not in {"RS256", "ES256"}:
        raise ConfigError(
            "BADGER_VC_JWT_ALG: must be RS256 or ES256 (the 1EdTech validator accepts only these)"
        )
    if settings.max_upload_bytes <= 0:
        raise ConfigError("BADGER_MAX_UPLOAD_BYTES: must be positive")
    _check_rate_limits(settings.rate_limits)
    if settings.page_cache_seconds < 0:
        raise ConfigError("BADGER_PAGE_CACHE_SECONDS: must be 0 (off) or more")

    return replace(
        settings,
        base_url=base,
        instance_dir=instance_dir,
        keys_dir=keys_dir,
        database_url=database_url,
        session_cookie_secure=settings.session_cookie_secure or settings.is_production,
    )


RATE_LIMIT_NAMES = ("login", "password_reset", "signup", "claim", "verify")
_RATE_RE = re.compile(r"^\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day)s?$")


def _check_rate_limits(value: str) -> None:
    """``off`` or ``name=N/unit[;M/unit]`` pairs, comma-separated (see web/security.py)."""
    if value.strip().lower() in {"", "off"}:
        return
    for part in value.split(","):
        name, sep, limits = part.partition("=")
        name = name.strip()
        if not sep or name not in RATE_LIMIT_NAMES:
            raise ConfigError(
                f"BADGER_RATE_LIMITS: {part.strip()!r} must be NAME=LIMIT with NAME one of "
                + ", ".join(RATE_LIMIT_NAMES)
            )
        for one in limits.split(";"):
            if not _RATE_RE.match(one.strip().lower()):
                raise ConfigError(
                    f"BADGER_RATE_LIMITS: {one.strip()!r} for {name} is not a limit such as 5/minute"
                )


def _ensure_writable_dir(path: Path, setting: str, mode: int = 0o755) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot create {path} ({exc.strerror})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{setting}: {path} is not writable")


def _with_secrets(settings: Settings, environ: Mapping[str, str], *, create_dirs: bool) -> Settings:
    configured = {
        purpose: environ[f"BADGER_SECRET_{purpose.upper()}"]
        for purpose in SECRET_PURPOSES
        if environ.get(f"BADGER_SECRET_{purpose.upper()}")
    }
    configured.update(settings.secrets)
    passphrase_env = environ.get("BADGER_KEY_PASSPHRASE", "")
    passphrases = tuple(p.encode() for p in passphrase_env.split(",") if p) or tuple(
        settings.key_passphrases
    )

    missing = [p for p in SECRET_PURPOSES if p not in configured]
    if settings.is_production:
        if missing:
            names = ", ".join(f"BADGER_SECRET_{p.upper()}" for p in missing)
            raise ConfigError(f"production requires configured secrets: {names}")
        if not passphrases:
            raise ConfigError("production requires BADGER_KEY_PASSPHRASE")
    elif missing or not passphrases:
        generated = _generated_secrets(settings.instance_dir, create=create_dirs)
        for purpose in missing:
            configured[purpose] = generated[purpose]
        if not passphrases:
            passphrases = (generated["key_passphrase"].encode(),)

    for purpose, value in configured.items():
        if len(value) < 16:
            raise ConfigError(f"BADGER_SECRET_{purpose.upper()}: must be at least 16 characters")
    return replace(settings, secrets=dict(configured), key_passphrases=passphrases)


def _generated_secrets(instance_dir: Path, *, create: bool) -> dict[str, str]:
    """Development secrets, generated once into ``instance/secrets.json`` (0600)."""
    path = instance_dir / "secrets.json"
    wanted = (*SECRET_PURPOSES, "key_passphrase")
    stored: dict[str, str] = {}
    if path.is_file():
        try:
            stored = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: unreadable generated secrets ({exc})") from None
    if all(stored.get(k) for k in wanted):
        return stored
    if not create:
        raise ConfigError(f"{path}: no generated secrets yet (run `badger init`)")
    for key in wanted:
        stored.setdefault(key, secrets.token_urlsafe(32))
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(stored, fh, indent=2)
    os.replace(tmp, path)
    return stored
