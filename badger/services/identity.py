"""Public identifiers and URLs of issuers, achievements, awards and status lists.

Everything is built from ``BADGER_BASE_URL``.  How an issuer is named in
OB 3.0 credentials is configurable per issuer (``Issuer.id_method``):

* ``did:key`` (the embedded default): the issuer id is the ``did:key`` of its
  active Ed25519 key and proofs use ``did:key:z6Mk…#z6Mk…``; verifiable fully
  offline.  Rotating the Ed25519 key changes the DID (old credentials keep
  verifying: a did:key is self-certifying).
* ``did:web`` (production): ``did:web:<host>:issuers:<slug>``, DID document at
  ``/issuers/<slug>/did.json`` listing every key, active and retired, with
  ``controller`` equal to the DID.
* ``url``: the HTTPS profile URL; proofs use ``<profile>#z6Mk…``.  The DCC
  verifier rejects this form ("Unsupported key type Profile"), the 1EdTech
  validator accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from badger.config import Settings
from badger.proofs.jwks import did_web_from_url
from badger.proofs.keystore import KeyAlgorithm, KeyRef, KeyStore

if TYPE_CHECKING:
    from badger.services.context import Context
    from badger.store.models import Issuer


@dataclass(frozen=True)
class IssuerIdentity:
    slug: str
    id_method: str
    issuer_id: str
    profile_url: str
    ob2_profile_url: str
    ob2_revocation_list_url: str
    jwks_url: str
    did_document_url: str | None
    ed25519: KeyRef
    rsa: KeyRef
    p256: KeyRef

    @property
    def verification_method(self) -> str:
        """Data Integrity ``verificationMethod`` for the active Ed25519 key."""
        return f"{self.issuer_id}#{self.ed25519.multibase}"

    def jwt_kid(self, key: KeyRef) -> str:
        """VC-JWT ``kid``: a DID URL for did:web, else an HTTPS URL serving the JWK."""
        if self.id_method == "did:web":
            return f"{self.issuer_id}#{key.kid}"
        return f"{self.profile_url}/keys/{key.kid}"

    def ob2_key_url(self, key: KeyRef) -> str:
        return f"{self.ob2_profile_url}/keys/{key.kid}"


def issuer_identity(
    settings: Settings, keystore: KeyStore, slug: str, id_method: str
) -> IssuerIdentity:
    base = settings.base_url
    profile_url = f"{base}/issuers/{slug}"
    ed25519 = keystore.active_key(slug, KeyAlgorithm.ED25519)
    did_document_url = None
    if id_method == "did:key":
        issuer_id = f"did:key:{ed25519.multibase}"
    elif id_method == "did:web":
        issuer_id = did_web_from_url(profile_url)
        did_document_url = f"{profile_url}/did.json"
    else:
        issuer_id = profile_url
    return IssuerIdentity(
        slug=slug,
        id_method=id_method,
        issuer_id=issuer_id,
        profile_url=profile_url,
        ob2_profile_url=f"{base}/ob2/issuers/{slug}",
        ob2_revocation_list_url=f"{base}/ob2/issuers/{slug}/revocations",
        jwks_url=f"{profile_url}/jwks.json",
        did_document_url=did_document_url,
        ed25519=ed25519,
        rsa=keystore.active_key(slug, KeyAlgorithm.RS256),
        p256=keystore.active_key(slug, KeyAlgorithm.ES256),
    )


def for_issuer(ctx: Context, issuer: Issuer) -> IssuerIdentity:
    """The identity of a stored issuer (its keys are created on first use)."""
    ctx.keystore.ensure_keys(issuer.slug)
    return issuer_identity(ctx.settings, ctx.keystore, issuer.slug, issuer.id_method)


def achievement_url(settings: Settings, public_id: str) -> str:
    return f"{settings.base_url}/achievements/{public_id}"


def achievement_image_url(settings: Settings, public_id: str, fmt: str = "png") -> str:
    return f"{settings.base_url}/achievements/{public_id}/image.{fmt}"


def badge_class_url(settings: Settings, public_id: str) -> str:
    return f"{settings.base_url}/ob2/badges/{public_id}"


def assertion_url(settings: Settings, award_public_id: str) -> str:
    return f"{settings.base_url}/ob2/assertions/{award_public_id}"


def credential_page_url(settings: Settings, award_public_id: str) -> str:
    return f"{settings.base_url}/credentials/{award_public_id}"


def credential_id(award_public_id: str) -> str:
    return f"urn:uuid:{award_public_id}"


def status_list_url(settings: Settings, list_public_id: str) -> str:
    return f"{settings.base_url}/status/{list_public_id}"
