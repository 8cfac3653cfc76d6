"""The 1EdTech validator's OB 3.0 fixtures and the signed CLR example, through badger's verifier.

Their issuers sit at example.edu-style URLs nobody can fetch: the signature is
checked with the key named in the verification method's ``#z6Mk…`` fragment
and key ownership is reported as a warning (FACTS §2.11), so the verdict is
still ``valid``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from badger.verify.context import VerifyContext
from badger.verify.ob3 import verify_clr, verify_ob3_credential
from badger.verify.ports import FetchedDocument, FetchError
from badger.verify.report import Status, Step, Verdict

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


class MemoryFetcher:
    """A Fetcher serving fixed JSON documents; every other URL is unreachable."""

    def __init__(self, documents: dict[str, object] | None = None) -> None:
        self.documents = dict(documents or {})

    def get(self, url: str, *, accept: str = "application/json") -> FetchedDocument:
        if url not in self.documents:
            raise FetchError("unreachable", f"{url} cannot be reached in this test")
        return FetchedDocument(
            url, 200, "application/json", json.dumps(self.documents[url]).encode()
        )


def fixture(spec_dir: Path, name: str) -> dict:
    path = spec_dir / "ob_v3p0" / "fixtures-1edtech-validator" / name
    return json.loads(path.read_text("utf-8"))


def codes(report, step: Step) -> list[tuple[str, Status]]:
    return [(c.code, c.status) for c in report.checks if c.step is step]


@pytest.mark.parametrize(
    "name",
    ["simple.json", "complete.json", "endorsement-valid.json", "simple-did-key-method.json"],
)
def test_1edtech_fixture_verifies_with_key_ownership_a_warning(spec_dir, name):
    report = verify_ob3_credential(fixture(spec_dir, name), VerifyContext(now=NOW))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert codes(report, Step.SIGNATURE) == [("signature_verified", Status.PASSED)]
    assert codes(report, Step.KEY_OWNERSHIP) == [("key_ownership_unknown", Status.WARNING)]
    assert codes(report, Step.SCHEMA)[0] == ("schema_valid", Status.PASSED)
    assert report.format == "ob3-ldp"


def test_complete_fixture_reports_its_unreachable_revocation_list(spec_dir):
    report = verify_ob3_credential(fixture(spec_dir, "complete.json"), VerifyContext(now=NOW))
    assert codes(report, Step.STATUS) == [("status_unavailable", Status.WARNING)]
    assert report.summary["validUntil"] == "2030-01-01T00:00:00Z"


def test_bad_proof_value_fixture_is_invalid_at_the_signature(spec_dir):
    report = verify_ob3_credential(
        fixture(spec_dir, "bad-proof-value.json"), VerifyContext(now=NOW)
    )
    assert report.verdict is Verdict.INVALID
    assert codes(report, Step.SIGNATURE) == [("signature_invalid", Status.FAILED)]


def test_bitstring_fixture_is_revoked_by_its_served_status_list(spec_dir):
    credential = fixture(spec_dir, "bitstring-status-revoked-credential.json")
    status_list = fixture(spec_dir, "bitstring-status-list-credential.json")
    fetcher = MemoryFetcher({credential["credentialStatus"]["statusListCredential"]: status_list})
    report = verify_ob3_credential(credential, VerifyContext(now=NOW, fetcher=fetcher))
    assert report.verdict is Verdict.REVOKED
    assert codes(report, Step.STATUS) == [("revoked", Status.FAILED)]
    assert codes(report, Step.SIGNATURE) == [("signature_verified", Status.PASSED)]


def test_bitstring_fixture_without_its_list_is_valid_with_a_warning(spec_dir):
    credential = fixture(spec_dir, "bitstring-status-revoked-credential.json")
    report = verify_ob3_credential(credential, VerifyContext(now=NOW))
    assert report.verdict is Verdict.VALID
    assert codes(report, Step.STATUS) == [("status_unavailable", Status.WARNING)]


def test_legacy_vc_1_1_fixture_verifies_with_its_ed25519_signature_2020(spec_dir):
    report = verify_ob3_credential(
        fixture(spec_dir, "simple-vcdm-v1.1.json"), VerifyContext(now=NOW)
    )
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "ob3-ldp-vc1.1"
    assert codes(report, Step.SCHEMA) == [("legacy_shape", Status.PASSED)]
    assert codes(report, Step.SIGNATURE) == [("signature_verified", Status.PASSED)]


def test_tampered_legacy_fixture_fails_its_ed25519_signature_2020(spec_dir):
    document = fixture(spec_dir, "simple-vcdm-v1.1.json")
    document["name"] = document["name"] + "!"
    report = verify_ob3_credential(document, VerifyContext(now=NOW))
    assert report.verdict is Verdict.INVALID
    assert codes(report, Step.SIGNATURE) == [("signature_invalid", Status.FAILED)]


def test_signed_clr_example_is_valid_with_its_embedded_credential(spec_dir):
    document = json.loads(
        (spec_dir / "clr_v2p0" / "examples" / "clr-simple-signed.json").read_text()
    )
    report = verify_clr(document, VerifyContext(now=NOW))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert report.format == "clr"
    assert [r.verdict for r in report.embedded] == [Verdict.VALID]
    assert codes(report, Step.EMBEDDED) == [("embedded_valid", Status.PASSED)]


def test_legacy_clr_example_verifies_with_all_six_credentials(spec_dir):
    document = json.loads(
        (spec_dir / "clr_v2p0" / "examples" / "clr-complex-signed.json").read_text()
    )
    report = verify_clr(document, VerifyContext(now=NOW))
    assert report.verdict is Verdict.VALID, report.as_json()
    assert [r.verdict for r in report.embedded] == [Verdict.VALID] * 6


@pytest.mark.parametrize(
    "name", ["basic-openbadgecredential.json", "complete-openbadgecredential.json"]
)
def test_unsigned_spec_examples_pass_format_context_and_schema_but_are_not_valid(spec_dir, name):
    document = json.loads((spec_dir / "ob_v3p0" / "examples" / name).read_text())
    document.pop("proof", None)
    report = verify_ob3_credential(document, VerifyContext(now=NOW))
    assert report.verdict is Verdict.INVALID
    assert codes(report, Step.SCHEMA)[0][1] is Status.PASSED
    assert codes(report, Step.SIGNATURE) == [("no_proof", Status.FAILED)]
