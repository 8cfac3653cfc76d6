"""Domain errors.  Each names the field or rule at fault so every entry point
(API, HTML form, CLI) can show the same message."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for errors raised by badger's domain and services."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Input that breaks a rule; ``field`` names the offending field."""

    code = "invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
        # Every problem found, by field, when a validator reports several.
        self.fields: dict[str, list[str]] = {field: [message]}

    def as_dict(self) -> dict[str, list[str]]:
        return self.fields


class NotFound(DomainError):
    """A named thing does not exist."""

    code = "not_found"


class Conflict(DomainError):
    """The request contradicts existing state (duplicate, already done)."""

    code = "conflict"


class PermissionDenied(DomainError):
    """The actor may not do this."""

    code = "forbidden"
