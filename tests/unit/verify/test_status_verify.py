"""The status step (FACTS §2.8, §5.4-6): Bitstring lists, 1EdTech revocation lists, others."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badger.credentials.status_list import (
    Bitstring,
    encode_list,
    status_entry,
    status_list_credential,
)
from badger.proofs.di_eddsa_rdfc_2022 import create_proof
from badger.proofs.multikey import did_key_from_ed25519_public, did_key_verification_method
from badger.verify.context import VerifyContext
from badger.verify.ports import FetchedDocument
from badger.verify.report import Report, Status, Step
from badger.verify.status import check_status
from tests.fakes import json_fetcher

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
LIST_URL = "https://badges.example.org/status/1"
REVOCATIONS = "https://badges.example.org/revocations"
CREDENTIAL_ID = "urn:uuid:7b0c3f1e-0000-4000-8000-000000000001"


class Issuer:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.id = did_key_from_ed25519_public(raw)
        self.method = did_key_verification_method(raw)

    def sign(self, document: dict) -> dict:
        signed = copy.deepcopy(document)
        signed["proof"] = [create_proof(signed, self.key, self.method, "2026-01-01T00:00:00Z")]
        return signed


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


def status_list(issuer: Issuer, purpose: str = "revocation", set_bits=(), *, length=131_072):
    encoded = encode_list(Bitstring.with_set(set(set_bits), length))
    return issuer.sign(
        status_list_credential(LIST_URL, issuer.id, purpose, encoded, "2026-01-01T00:00:00Z")
    )


def credential(issuer_id: str, status) -> dict:
    return {
        "id": CREDENTIAL_ID,
        "issuer": {"id": issuer_id, "type": ["Profile"]},
        "credentialStatus": status,
    }


def run(document: dict, documents: dict | None = None) -> Report:
    report = Report()
    check_status(document, VerifyContext(now=NOW, fetcher=json_fetcher(documents)), report)
    return report


def only(report: Report):
    (check,) = report.checks
    assert check.step is Step.STATUS
    return check


# ---------------------------------------------------------------- Bitstring Status List


def test_a_clear_bit_means_not_revoked(issuer):
    report = run(
        credential(issuer.id, status_entry(LIST_URL, 41, "revocation")),
        {LIST_URL: status_list(issuer, set_bits=[40, 42])},
    )
    check = only(report)
    assert (check.status, check.code) == (Status.PASSED, "not_revoked")


def test_a_set_bit_means_revoked(issuer):
    report = run(
        credential(issuer.id, status_entry(LIST_URL, 41, "revocation")),
        {LIST_URL: status_list(issuer, set_bits=[41])},
    )
    assert (only(report).status, only(report).code) == (Status.FAILED, "revoked")


def test_a_set_suspension_bit_means_suspended(issuer):
    entry = status_entry(LIST_URL, 7, "suspension")
    served = {LIST_URL: status_list(issuer, "suspension", set_bits=[7])}
    assert only(run(credential(issuer.id, entry), served)).code == "suspended"
    served = {LIST_URL: status_list(issuer, "suspension")}
    assert only(run(credential(issuer.id, entry), served)).code == "not_suspended"


def test_an_unreachable_list_is_only_a_warning(issuer):
    check = only(run(credential(issuer.id, status_entry(LIST_URL, 1, "revocation"))))
    assert (check.status, check.code) == (Status.WARNING, "status_unavailable")


def test_a_list_from_another_issuer_cannot_speak_for_the_credential(issuer):
    other = Issuer()
    check = only(
        run(
            credential(issuer.id, status_entry(LIST_URL, 1, "revocation")),
            {LIST_URL: status_list(other)},
        )
    )
    assert (check.status, check.code) == (Status.FAILED, "status_list_issuer_mismatch")


def test_a_tampered_list_fails_its_own_proof(issuer):
    served = status_list(issuer, set_bits=[3])
    served["credentialSubject"]["encodedList"] = encode_list(Bitstring())
    check = only(
        run(credential(issuer.id, status_entry(LIST_URL, 3, "revocation")), {LIST_URL: served})
    )
    assert (check.status, check.code) == (Status.FAILED, "status_list_invalid")


def test_an_unsigned_list_is_refused(issuer):
    served = status_list(issuer)
    del served["proof"]
    check = only(
        run(credential(issuer.id, status_entry(LIST_URL, 3, "revocation")), {LIST_URL: served})
    )
    assert check.code == "status_list_invalid"


def test_the_purposes_must_match(issuer):
    check = only(
        run(
            credential(issuer.id, status_entry(LIST_URL, 3, "revocation")),
            {LIST_URL: status_list(issuer, "suspension")},
        )
    )
    assert (check.status, check.code) == (Status.FAILED, "status_purpose_mismatch")


def test_an_index_beyond_the_list_is_malformed(issuer):
    check = only(
        run(
            credential(issuer.id, status_entry(LIST_URL, 200_000, "revocation")),
            {LIST_URL: status_list(issuer)},
        )
    )
    assert check.code == "status_list_malformed"
    assert "RANGE_ERROR" in check.message


def test_a_numeric_index_is_read_like_a_string(issuer):
    entry = status_entry(LIST_URL, 9, "revocation") | {"statusListIndex": 9}
    report = run(credential(issuer.id, entry), {LIST_URL: status_list(issuer, set_bits=[9])})
    assert only(report).code == "revoked"


def test_a_malformed_entry_fails(issuer):
    entry = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
    assert only(run(credential(issuer.id, entry))).code == "status_malformed"


def test_each_entry_of_a_list_is_checked(issuer):
    entries = [
        status_entry(LIST_URL, 1, "revocation"),
        {"id": REVOCATIONS, "type": "1EdTechRevocationList"},
    ]
    report = run(credential(issuer.id, entries), {LIST_URL: status_list(issuer)})
    assert [c.code for c in report.checks] == ["not_revoked", "status_unavailable"]


def test_a_list_answering_404_is_unavailable(issuer):
    gone = FetchedDocument(LIST_URL, 404, "text/plain", b"not found")
    check = only(
        run(credential(issuer.id, status_entry(LIST_URL, 1, "revocation")), {LIST_URL: gone})
    )
    assert (check.status, check.code) == (Status.WARNING, "status_unavailable")


def test_a_document_that_is_no_status_list_is_malformed(issuer):
    served = {
        LIST_URL: issuer.sign(
            {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
        )
    }
    check = only(run(credential(issuer.id, status_entry(LIST_URL, 1, "revocation")), served))
    assert check.code == "status_list_malformed"


def test_a_short_list_is_malformed(issuer):
    served = status_list(issuer)
    served["credentialSubject"]["encodedList"] = encode_list(Bitstring.with_set(set(), 131_072))[
        :40
    ]
    check = only(
        run(
            credential(issuer.id, status_entry(LIST_URL, 1, "revocation")),
            {LIST_URL: issuer.sign(served)},
        )
    )
    assert check.code == "status_list_malformed"


def test_refresh_and_multi_bit_statuses_are_not_failures(issuer):
    entry = status_entry(LIST_URL, 2, "refresh")
    flagged = only(
        run(credential(issuer.id, entry), {LIST_URL: status_list(issuer, "refresh", [2])})
    )
    assert (flagged.status, flagged.code) == (Status.WARNING, "refresh_available")
    clear = only(run(credential(issuer.id, entry), {LIST_URL: status_list(issuer, "refresh")}))
    assert (clear.status, clear.code) == (Status.PASSED, "no_refresh")
    sized = entry | {"statusSize": 2, "statusPurpose": "message"}
    assert only(run(credential(issuer.id, sized))).code == "status_type_not_checked"


# ---------------------------------------------------------------- 1EdTech Revocation List


def revocation_entry() -> dict:
    return {"id": REVOCATIONS, "type": "1EdTechRevocationList"}


@pytest.mark.parametrize(
    ("listed", "code"),
    [
        ([{"id": CREDENTIAL_ID}], "revoked"),
        ([{"id": CREDENTIAL_ID, "revoked": True, "revocationReason": "misconduct"}], "revoked"),
        ([{"id": CREDENTIAL_ID, "revoked": False}], "not_revoked"),
        ([{"id": "urn:uuid:someone-else"}], "not_revoked"),
        ([], "not_revoked"),
    ],
)
def test_1edtech_revocation_list(issuer, listed, code):
    served = {REVOCATIONS: {"revokedCredential": listed}}
    assert only(run(credential(issuer.id, revocation_entry()), served)).code == code


def test_unreachable_1edtech_list_is_a_warning(issuer):
    check = only(run(credential(issuer.id, revocation_entry())))
    assert (check.status, check.code) == (Status.WARNING, "status_unavailable")


def test_1edtech_list_without_revoked_credentials_is_a_warning(issuer):
    check = only(run(credential(issuer.id, revocation_entry()), {REVOCATIONS: {"x": 1}}))
    assert (check.status, check.code) == (Status.WARNING, "status_unavailable")


# ---------------------------------------------------------------- other types and none


def test_status_list_2021_is_reported_as_not_checked(issuer):
    entry = {"id": f"{LIST_URL}#1", "type": "StatusList2021Entry"}
    check = only(run(credential(issuer.id, entry)))
    assert (check.status, check.code) == (Status.WARNING, "status_type_not_checked")
    assert "StatusList2021Entry" in check.message


def test_no_status_is_not_applicable(issuer):
    document = credential(issuer.id, None)
    del document["credentialStatus"]
    check = only(run(document))
    assert (check.status, check.code) == (Status.NOT_APPLICABLE, "no_status")
