"""The JSON-LD context documents badger serves to its own JSON-LD processor.

A data package: the files beside this module are the only contexts
`badger.proofs.jsonld` will ever load (no network, ever). Where each file came
from is recorded in ``PROVENANCE.md``.
"""

from types import MappingProxyType

#: Context URL → file name in this package. Two URLs may share one file
#: (published aliases of the same document).
CONTEXT_FILES = MappingProxyType(
    {
        # W3C Verifiable Credentials Data Model 2.0 / 1.1
        "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
        "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
        # W3C VC Data Integrity, Multikey, Bitstring Status List, legacy suites, DID
        "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
        "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
        "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
        "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
        "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.jsonld",
        "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
        # 1EdTech Open Badges 3.0
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob-v3p0-context-3.0.2.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-v3p0-context-3.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context-3.0.0.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld": "ob-v3p0-context-3.0.0.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
        # 1EdTech Comprehensive Learner Record 2.0
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-v2p0-context-2.0.1.json",
        "https://purl.imsglobal.org/spec/clr/v2p0/context.json": "clr-v2p0-context-2.0.0.json",
        # 1EdTech Open Badges 2.0
        "https://w3id.org/openbadges/v2": "openbadges-v2-context.json",
        "https://openbadgespec.org/v2/context.json": "openbadges-v2-context.json",
    }
)
