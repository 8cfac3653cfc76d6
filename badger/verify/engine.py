"""One entry point for any badge: detect the format, then run its verifier.

The format is detected, never asked for (``badger.verify.sniff``): a URL, a
hosted or signed OB 2.0 assertion, an OB 3.0 credential (JSON or VC-JWT, VC 2.0
or the legacy 1.1 form), a CLR, or a baked PNG/SVG of any of these.
"""

from __future__ import annotations

import logging
from typing import Any

from badger.verify import ob2, ob3
from badger.verify.context import VerifyContext
from badger.verify.ports import FetchError
from badger.verify.report import Check, Report, Status, Step, unusable
from badger.verify.sniff import Detected, InputKind, detect

log = logging.getLogger(__name__)
URL_ACCEPT = "application/ld+json, application/vc+ld+json, application/json;q=0.9, text/plain;q=0.5, */*;q=0.1"


def verify(data: bytes | str, ctx: VerifyContext) -> Report:
    """Check any badge and explain the answer; never raises for bad input."""
    try:
        return _verify(data, ctx, depth=0)
    except Exception:
        # A verifier bug must not become a 500 or a false "valid": say so plainly.
        log.exception("verifier failed on an input")
        return unusable(
            "badger could not finish checking this input (an internal error was logged)"
        )


def _verify(data: bytes | str, ctx: VerifyContext, *, depth: int) -> Report:
    detected = detect(data)
    if detected.kind is InputKind.URL:
        if depth > 0:
            return unusable("a URL that leads to another URL is not followed")
        return _verify_url(detected.payload, ctx)
    return _dispatch(detected, ctx)


def _dispatch(detected: Detected, ctx: VerifyContext, *, source_url: str | None = None) -> Report:
    payload: Any = detected.payload
    match detected.kind:
        case InputKind.OB2_ASSERTION:
            report = ob2.verify_ob2_assertion(payload, ctx, source_url=source_url)
        case InputKind.OB2_JWS:
            report = ob2.verify_ob2_jws(payload, ctx)
        case InputKind.VC_JWT:
            report = ob3.verify_vc_jwt_token(payload, ctx)
        case InputKind.OB3_CREDENTIAL:
            report = ob3.verify_ob3_credential(payload, ctx)
        case InputKind.CLR:
            report = ob3.verify_clr(payload, ctx)
        case _:
            return unusable(detected.reason)
    if detected.image_format is not None:
        where = Check(
            Step.FORMAT,
            "baked_image",
            Status.PASSED,
            f"read the credential baked into this {detected.image_format.upper()} image",
            {"notes": list(detected.notes)} if detected.notes else {},
        )
        report.checks.insert(0, where)
        report.summary.setdefault("baked_in", str(detected.image_format))
    return report


def _verify_url(url: str, ctx: VerifyContext) -> Report:
    try:
        fetched = ctx.retrieve(url, accept=URL_ACCEPT)
    except FetchError as exc:
        return unusable(f"could not fetch {url}: {exc.message}", fetch_error=exc.code)
    if fetched.status == 410:
        # A hosted OB 2.0 assertion that was revoked; its verifier reads the 410.
        return ob2.verify_ob2_assertion({"id": url}, ctx, source_url=url)
    if fetched.status >= 400:
        return unusable(f"{url} answered HTTP {fetched.status}")
    detected = detect(fetched.body)
    if detected.kind is InputKind.URL:
        return unusable(f"{url} holds only another URL; give that URL instead")
    return _dispatch(detected, ctx, source_url=url)
