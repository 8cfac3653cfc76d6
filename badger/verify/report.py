"""The verifier's answer: an ordered list of checks, each explained, and a verdict.

Modelled on what verifiers need to show a person (DCC verifier-core keeps
signature, expiry, status and issuer apart; badger does the same for OB 2.0 as
well): every check has a stable ``code``, a ``status`` and a human sentence.
Nothing here is a bare boolean.

Verdict rules (documented in the README):

* ``unusable`` — the input is not a badge badger can read (bad bytes, unknown
  format); nothing was checked.
* ``invalid`` — a check that proves forgery or tampering failed: format or
  contexts, schema, signature, key ownership, recipient mismatch.
* ``revoked`` — the signature is good but the issuer revoked it.
* ``suspended`` — good signature, currently suspended by the issuer.
* ``expired`` — good signature, ``validUntil``/``expires`` has passed (or
  ``validFrom`` is in the future: ``not_yet_valid``).  Expired is not forged.
* ``valid`` — every check passed or warned.  Warnings (e.g. an issuer that
  cannot be reached or is not known) never make a badge invalid on their own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    NOT_APPLICABLE = "not_applicable"


class Verdict(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNUSABLE = "unusable"


class Step(enum.StrEnum):
    """The kinds of check, in the order a report lists them."""

    FORMAT = "format"
    CONTEXT = "context"
    SCHEMA = "schema"
    SIGNATURE = "signature"
    KEY_OWNERSHIP = "key_ownership"
    ISSUER = "issuer"
    VALIDITY = "validity"
    STATUS = "status"
    RECIPIENT = "recipient"
    EMBEDDED = "embedded"


@dataclass(frozen=True)
class Check:
    step: Step
    code: str
    status: Status
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step.value,
            "code": self.code,
            "status": self.status.value,
            "message": self.message,
        }
        if self.details:
            out["details"] = self.details
        return out


@dataclass
class Report:
    """Built step by step by a verifier; ``verdict`` is derived, never set by hand."""

    format: str = "unknown"
    checks: list[Check] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    embedded: list[Report] = field(default_factory=list)

    def add(self, step: Step, code: str, status: Status, message: str, /, **details: Any) -> Check:
        check = Check(step, code, status, message, details)
        self.checks.append(check)
        return check

    def passed(self, step: Step, code: str, message: str, /, **details: Any) -> Check:
        return self.add(step, code, Status.PASSED, message, **details)

    def failed(self, step: Step, code: str, message: str, /, **details: Any) -> Check:
        return self.add(step, code, Status.FAILED, message, **details)

    def warning(self, step: Step, code: str, message: str, /, **details: Any) -> Check:
        return self.add(step, code, Status.WARNING, message, **details)

    def not_applicable(self, step: Step, code: str, message: str, /, **details: Any) -> Check:
        return self.add(step, code, Status.NOT_APPLICABLE, message, **details)

    @property
    def verdict(self) -> Verdict:
        failed = [c for c in self.checks if c.status is Status.FAILED]
        if any(c.step is Step.FORMAT for c in failed) and not any(
            c.status is Status.PASSED for c in self.checks
        ):
            return Verdict.UNUSABLE
        tamper_steps = {
            Step.FORMAT,
            Step.CONTEXT,
            Step.SCHEMA,
            Step.SIGNATURE,
            Step.KEY_OWNERSHIP,
            Step.ISSUER,
            Step.RECIPIENT,
            Step.EMBEDDED,
        }
        if any(c.step in tamper_steps for c in failed):
            return Verdict.INVALID
        status_failures = [c for c in failed if c.step is Step.STATUS]
        if any(c.code == "revoked" for c in status_failures):
            return Verdict.REVOKED
        if any(c.code == "suspended" for c in status_failures):
            return Verdict.SUSPENDED
        if status_failures:
            return Verdict.INVALID
        validity = [c for c in failed if c.step is Step.VALIDITY]
        if any(c.code == "not_yet_valid" for c in validity):
            return Verdict.NOT_YET_VALID
        if validity:
            return Verdict.EXPIRED
        if not any(c.step is Step.SIGNATURE and c.status is Status.PASSED for c in self.checks):
            # Nothing proved the document authentic: never call that valid.
            return Verdict.INVALID
        return Verdict.VALID

    @property
    def is_valid(self) -> bool:
        return self.verdict is Verdict.VALID

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.verdict.value,
            "format": self.format,
            "checks": [c.as_json() for c in self.checks],
        }
        if self.summary:
            out["credential"] = self.summary
        if self.embedded:
            out["embedded"] = [r.as_json() for r in self.embedded]
        return out


def unusable(message: str, /, **details: Any) -> Report:
    report = Report()
    report.failed(Step.FORMAT, "unusable_input", message, **details)
    return report
