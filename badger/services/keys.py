"""Issuer keys: create, list, rotate, export the public halves.

Private keys never leave ``badger.proofs``; this module handles only
:class:`~badger.proofs.keystore.KeyRef` values (public facts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from badger.domain.errors import NotFound, ValidationError
from badger.proofs.errors import KeyStoreError
from badger.proofs.jwks import jwks_document
from badger.proofs.keystore import KeyAlgorithm, KeyRef
from badger.services import audit
from badger.services.context import Context
from badger.store.models import Issuer

ALGORITHMS = tuple(a.value for a in KeyAlgorithm)


@dataclass(frozen=True)
class KeyLine:
    kid: str
    alg: str
    status: str
    created: str
    retired: str | None


def _issuer_slug(ctx: Context, slug: str | None) -> str:
    slug = slug or ctx.settings.issuer_slug
    with ctx.uow() as uow:
        if uow.session.scalar(select(Issuer.id).where(Issuer.slug == slug)) is None:
            raise NotFound(f"no issuer {slug!r} (run `badger init`)")
    return slug


def ensure_issuer_keys(ctx: Context, slug: str | None = None) -> list[KeyRef]:
    return ctx.keystore.ensure_keys(_issuer_slug(ctx, slug))


def list_keys(ctx: Context, slug: str | None = None) -> list[KeyLine]:
    refs = ctx.keystore.public_keys(_issuer_slug(ctx, slug))
    return [
        KeyLine(
            kid=r.kid,
            alg=r.alg.value,
            status=r.status.value,
            created=r.created.isoformat(),
            retired=r.retired_at.isoformat() if r.retired_at else None,
        )
        for r in refs
    ]


def rotate_key(ctx: Context, alg: str, slug: str | None = None, *, actor: str) -> KeyRef:
    """Make a new active key for ``alg``; the old one stays published (retired)."""
    if alg not in ALGORITHMS:
        raise ValidationError("alg", f"one of {', '.join(ALGORITHMS)}")
    slug = _issuer_slug(ctx, slug)
    new = ctx.keystore.rotate(slug, alg)
    with ctx.uow() as uow:
        audit.record(
            uow,
            actor=actor,
            action="key.rotate",
            subject_type="issuer",
            subject_id=slug,
            now=ctx.now(),
            alg=alg,
            kid=new.kid,
        )
    return new


def public_jwks(ctx: Context, slug: str | None = None) -> dict[str, Any]:
    return jwks_document(ctx.keystore.public_keys(_issuer_slug(ctx, slug)))


__all__ = ["KeyStoreError", "ensure_issuer_keys", "list_keys", "public_jwks", "rotate_key"]
