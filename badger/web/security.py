"""Security of the pages: headers, CSRF on every form (Flask-WTF) and rate limits.

Headers (every response, documents included):

* ``Content-Security-Policy`` without ``'unsafe-inline'``: no inline scripts or
  styles (``style=""`` attributes included), nothing from other origins, no
  plugins, forms post only here, and ``frame-ancestors 'none'`` (with
  ``X-Frame-Options: DENY`` for old browsers) so no page can be framed for
  clickjacking.  For an uploaded SVG served as a document, the CSP also keeps
  any script inside it from running.
* ``X-Content-Type-Options: nosniff``, a referrer policy that never sends a
  path to other sites, ``Cross-Origin-Opener-Policy: same-origin`` and a
  ``Permissions-Policy`` turning off sensors badger never uses.
* ``Strict-Transport-Security`` only on requests that arrived over HTTPS
  (RFC 6797 §7.2: a host must not send it over plain HTTP).

Rate limits (Flask-Limiter) count per client address on the endpoints an
attacker would hammer: sign-in, password reset, signup, claim links and the
verifier (which may fetch remote documents).  They are matched by URL rule,
not by view function, so the views (written elsewhere) need no decorator and
a blueprint registered after :func:`init_app` is still covered; the limiter's
``before_request`` hook runs before the CSRF check, so a throttled client gets
429 even without a valid form.  ``BADGER_RATE_LIMITS`` overrides each group or
turns them ``off``; counters live in Redis when ``BADGER_REDIS_URL`` is set
(shared by every worker), else in the process's memory.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limit, Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from badger.config import Settings
from badger.web.errors import error_response

log = logging.getLogger(__name__)

csrf = CSRFProtect()

# No inline scripts or styles anywhere; pages are server-rendered.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"

# Built-in limits per client address; ``BADGER_RATE_LIMITS`` overrides any of them.
DEFAULT_RATE_LIMITS: dict[str, str] = {
    "login": "5/minute;30/hour",
    "password_reset": "5/minute;20/hour",
    "signup": "5/minute;20/hour",
    "claim": "10/minute;60/hour",
    "verify": "60/minute;1000/hour",
}


@dataclass(frozen=True)
class Guarded:
    """A URL rule under a limit group, for the methods that do the costly or risky work."""

    rule: str
    group: str
    methods: frozenset[str] = frozenset({"POST"})
    # GET /verify?url=… fetches and checks a remote badge: counted like a POST.
    get_with_arg: str | None = None


GUARDED: tuple[Guarded, ...] = (
    Guarded("/login", "login"),
    Guarded("/signup", "signup"),
    # Also send a confirmation mail to an address the caller names: one budget with sign-up.
    Guarded("/email/verify", "signup"),
    Guarded("/account/identifiers/email", "signup"),
    Guarded("/password/forgot", "password_reset"),
    Guarded("/password/reset/<token>", "password_reset"),
    Guarded("/claim/<token>", "claim"),
    Guarded("/verify", "verify", get_with_arg="url"),
    Guarded("/api/verify", "verify"),
)
_BY_RULE = {g.rule: g for g in GUARDED}


def rate_limits(settings: Settings) -> dict[str, str] | None:
    """The effective limits per group, or ``None`` when they are turned off."""
    configured = settings.rate_limits.strip()
    if configured.lower() == "off":
        return None
    limits = dict(DEFAULT_RATE_LIMITS)
    for part in filter(None, (p.strip() for p in configured.split(","))):
        name, _, value = part.partition("=")
        limits[name.strip()] = value.strip()
    return limits


def _group() -> str | None:
    """The limit group of the current request, if it is one that is counted."""
    rule = request.url_rule
    guarded = _BY_RULE.get(rule.rule) if rule is not None else None
    if guarded is None:
        return None
    if request.method in guarded.methods:
        return guarded.group
    if guarded.get_with_arg and request.method == "GET" and request.args.get(guarded.get_with_arg):
        return guarded.group
    return None


def _limiter(app: Flask) -> Limiter:
    return next(iter(app.extensions["limiter"]))


def _make_limiter(settings: Settings) -> Limiter:
    limits = rate_limits(settings) or {}

    def provider() -> str:
        group = _group()
        return limits.get(group, "") if group else ""

    def scope(_endpoint: str) -> str:
        return _group() or "unlimited"

    # One limiter per app (tests build many apps; a module-level limiter would
    # share counters and pile up limits between them).
    return Limiter(
        get_remote_address,
        default_limits=[Limit(provider, scope=scope, shared=True)],
        storage_uri=settings.redis_url or "memory://",
        # Limits must follow a Redis outage, not take sign-in down with it.
        in_memory_fallback_enabled=bool(settings.redis_url),
        swallow_errors=bool(settings.redis_url),
        key_prefix="badger-ratelimit",
        strategy="moving-window",
        headers_enabled=True,
        enabled=bool(limits),
    )


def _too_many_requests(exc: RateLimitExceeded) -> Any:
    limit = _limiter(current_app).current_limit
    retry_after = max(1, int(limit.reset_at - time.time())) if limit is not None else 60
    log.warning("rate limit %s hit by %s on %s", exc.description, request.remote_addr, request.path)
    body, status = error_response(
        429,
        "rate_limited",
        f"Too many attempts from your address ({exc.description}). "
        f"Please wait {retry_after} seconds and try again.",
    )
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = str(retry_after)
    return response


def init_app(app: Flask) -> None:
    settings: Settings = app.extensions["badger"].settings
    # The limiter's before_request hook must run before the CSRF check: register it first.
    _make_limiter(settings).init_app(app)
    csrf.init_app(app)
    # Verifying changes nothing, so the /verify form needs no CSRF token (as /api/verify);
    # without one, its pages set no cookie and anonymous answers can be cached (microcache).
    csrf.exempt("badger.web.verify.page")
    app.register_error_handler(RateLimitExceeded, _too_many_requests)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
