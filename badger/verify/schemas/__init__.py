"""The official 1EdTech JSON Schemas the verifier validates credentials with.

A data package: the files beside this module are the only JSON Schemas
``badger.verify`` uses; nothing is fetched at run time, whatever a credential's
``credentialSchema`` names (FACTS §2.7, §5.18). Where each file came from is
recorded in ``PROVENANCE.md``.

Two variants exist for Open Badges 3.0 (FACTS §4.1):

* the *strict* schema (``…/schema/json/…``), which demands arrays for ``type``,
  ``proof``, ``credentialSchema`` and friends — the better check before issuing;
* the *JSON-LD adaptation* (``…/schema/json-ld/…``), which also accepts the single
  values JSON-LD compaction produces — the right check for a verifier, because
  a conforming credential may carry one ``proof`` object (the 1EdTech test
  vector does, FACTS §5.3).

CLR 2.0 publishes only the adaptation (at its ``/schema/json/`` URL).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = [
    "SCHEMA_FILES",
    "VERIFIER_SCHEMAS",
    "load_schema",
    "verifier_schema_url",
]

_OB = "https://purl.imsglobal.org/spec/ob/v3p0/schema"
_CLR = "https://purl.imsglobal.org/spec/clr/v2p0/schema"

#: Schema URL (its ``$id``) → file name in this package.
SCHEMA_FILES = MappingProxyType(
    {
        f"{_OB}/json/ob_v3p0_achievementcredential_schema.json": (
            "ob_v3p0_achievementcredential_strict.json"
        ),
        f"{_OB}/json-ld/ob_v3p0_achievementcredential_schema.json": (
            "ob_v3p0_achievementcredential_jsonld.json"
        ),
        f"{_OB}/json/ob_v3p0_endorsementcredential_schema.json": (
            "ob_v3p0_endorsementcredential_strict.json"
        ),
        f"{_OB}/json-ld/ob_v3p0_endorsementcredential_schema.json": (
            "ob_v3p0_endorsementcredential_jsonld.json"
        ),
        f"{_OB}/json/ob_v3p0_profile_schema.json": "ob_v3p0_profile_strict.json",
        f"{_OB}/json-ld/ob_v3p0_profile_schema.json": "ob_v3p0_profile_jsonld.json",
        f"{_CLR}/json/clr_v2p0_clrcredential_schema.json": "clr_v2p0_clrcredential_jsonld.json",
    }
)

#: Credential class → the schema URL the verifier validates it with (the JSON-LD
#: adaptation, FACTS §4.1).
VERIFIER_SCHEMAS = MappingProxyType(
    {
        "AchievementCredential": f"{_OB}/json-ld/ob_v3p0_achievementcredential_schema.json",
        "OpenBadgeCredential": f"{_OB}/json-ld/ob_v3p0_achievementcredential_schema.json",
        "EndorsementCredential": f"{_OB}/json-ld/ob_v3p0_endorsementcredential_schema.json",
        "Profile": f"{_OB}/json-ld/ob_v3p0_profile_schema.json",
        "ClrCredential": f"{_CLR}/json/clr_v2p0_clrcredential_schema.json",
    }
)

# A credential names the official /schema/json/ URL in its credentialSchema; the
# verifier reads that as "validate with the adaptation of this schema".
_ADAPTATION_OF = MappingProxyType(
    {
        f"{_OB}/json/ob_v3p0_achievementcredential_schema.json": VERIFIER_SCHEMAS[
            "AchievementCredential"
        ],
        f"{_OB}/json/ob_v3p0_endorsementcredential_schema.json": VERIFIER_SCHEMAS[
            "EndorsementCredential"
        ],
        f"{_OB}/json/ob_v3p0_profile_schema.json": VERIFIER_SCHEMAS["Profile"],
    }
)


def verifier_schema_url(credential_schema_id: str) -> str | None:
    """The shipped schema to validate with for a ``credentialSchema.id``, or None if unknown."""
    if not isinstance(credential_schema_id, str):
        return None
    if credential_schema_id in _ADAPTATION_OF:
        return _ADAPTATION_OF[credential_schema_id]
    return credential_schema_id if credential_schema_id in SCHEMA_FILES else None


@cache
def _parsed(filename: str) -> Any:
    text = resources.files(__name__).joinpath(filename).read_text("utf-8")
    return json.loads(text)


def load_schema(url: str) -> dict[str, Any]:
    """The shipped schema whose ``$id`` is ``url`` (a shared, read-only-by-convention dict).

    :raises KeyError: for any URL badger does not ship.
    """
    return _parsed(SCHEMA_FILES[url])  # type: ignore[no-any-return]
