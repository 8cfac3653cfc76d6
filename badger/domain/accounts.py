"""Accounts and roles (pure rules; hashing and storage live in services/store)."""

from __future__ import annotations

from enum import StrEnum

from badger.domain.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


class Role(StrEnum):
    """What an account may do.  Admins may do everything reviewers may."""

    ADMIN = "admin"
    REVIEWER = "reviewer"
    LEARNER = "learner"


IMPLIED_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset({Role.ADMIN, Role.REVIEWER, Role.LEARNER}),
    Role.REVIEWER: frozenset({Role.REVIEWER, Role.LEARNER}),
    Role.LEARNER: frozenset({Role.LEARNER}),
}


def effective_roles(granted: set[str] | frozenset[str]) -> frozenset[Role]:
    """Roles an account holds, including those implied by higher roles."""
    roles: set[Role] = set()
    for name in granted:
        roles |= IMPLIED_ROLES[Role(name)]
    return frozenset(roles)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValidationError("role", f"{value!r} is not one of {names}") from None


def check_password(password: str) -> str:
    """A password policy per NIST SP 800-63B: length, not composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError("password", f"at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() == "":
        raise ValidationError("password", "must not be blank")
    return password
