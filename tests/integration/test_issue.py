"""Issuing an award renders every format, signed, in one transaction; status changes follow."""

import base64
import gc
import hashlib
import json
import os
import tracemalloc
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from jsonschema import Draft201909Validator
from sqlalchemy import func, select, update

from badger.credentials import baking
from badger.credentials.status_list import decode_list
from badger.domain.achievements import AchievementSpec
from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.domain.recipients import identity_hash
from badger.proofs.di_eddsa_rdfc_2022 import resolve_did_key, verify_proof
from badger.proofs.jws import verify_compact_jws
from badger.proofs.keystore import KeyAlgorithm
from badger.proofs.vc_jwt import verify_vc_jwt
from badger.services import catalog, status
from badger.services.issue import (
    AWARD_FORMATS,
    FORMATS,
    EvidenceInput,
    IssueRequest,
    achievement_image,
    get_document,
    issue_award,
)
from badger.store.models import (
    Award,
    IssuedDocument,
    LearnerIdentifier,
    StatusAllocation,
    StatusList,
)


@pytest.fixture
def ethics(initialized):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics & Disclosure",
            description="The required ethics unit.",
            criteria_narrative="Pass the quiz with 80% or more.",
            credits_available=Decimal("1.5"),
            credit_category="ethics",
            validity_days=365,
        ),
    )
    return "ethics"


def issue(ctx, recipient="ada@example.org", **kw):
    return issue_award(ctx, IssueRequest("ethics", recipient, **kw), actor="test")


def doc(ctx, award, fmt):
    return get_document(ctx, award.public_id, fmt).content


def test_every_format_is_stored_once_with_its_hash(initialized, ethics):
    award = issue(initialized, evidence=[EvidenceInput(url="https://lms.example.org/quiz/9")])
    assert set(award.formats) == {"page", *AWARD_FORMATS}
    with initialized.uow() as uow:
        rows = uow.session.scalars(select(IssuedDocument)).all()
        assert sorted(r.format for r in rows) == sorted(AWARD_FORMATS)
        for row in rows:
            assert row.sha256 == hashlib.sha256(row.content).hexdigest()
            assert row.media_type == FORMATS[row.format]


def test_ob3_data_integrity_credential_verifies_and_names_its_issuer(initialized, ethics):
    award = issue(initialized)
    credential = json.loads(doc(initialized, award, "ob3-ldp"))
    result = verify_proof(credential, resolve_did_key)
    assert result.verified, result.reason
    method = credential["proof"][0]["verificationMethod"]
    assert method.split("#")[0] == credential["issuer"]["id"]
    assert credential["credentialSubject"]["creditsEarned"] == 1.5
    assert credential["validUntil"] == "2027-03-14T15:09:26Z"
    subject_id = credential["credentialSubject"]["identifier"][0]
    assert subject_id["identityHash"] == identity_hash("ada@example.org", subject_id["salt"])


def test_tampering_with_the_stored_credential_breaks_its_proof(initialized, ethics):
    award = issue(initialized)
    credential = json.loads(doc(initialized, award, "ob3-ldp"))
    credential["credentialSubject"]["creditsEarned"] = 15
    assert verify_proof(credential, resolve_did_key).code == "signature_invalid"


def test_vc_jwt_verifies_with_the_issuers_p256_key(initialized, ethics):
    award = issue(initialized)
    token = doc(initialized, award, "ob3-jwt").decode()
    p256 = initialized.keystore.active_key("default", KeyAlgorithm.ES256)
    result = verify_vc_jwt(token, lambda kid, jwk: p256.public_pem, initialized.now())
    assert result.code == "verified", result.reason
    assert result.credential["id"] == f"urn:uuid:{award.public_id}"


def test_vc_jwt_can_be_signed_rs256_instead(initialized, ethics):
    import dataclasses

    initialized.settings = dataclasses.replace(initialized.settings, vc_jwt_alg="RS256")
    award = issue(initialized)
    token = doc(initialized, award, "ob3-jwt").decode()
    rsa = initialized.keystore.active_key("default", KeyAlgorithm.RS256)
    result = verify_vc_jwt(token, lambda kid, jwk: rsa.public_pem, initialized.now())
    assert result.code == "verified", result.reason


def test_ob2_signed_assertion_verifies_and_points_at_a_published_key(initialized, ethics):
    award = issue(initialized)
    token = doc(initialized, award, "ob2-signed").decode()
    rsa = initialized.keystore.active_key("default", KeyAlgorithm.RS256)
    payload = verify_compact_jws(token, rsa.public_pem)
    assert payload["id"] == f"urn:uuid:{award.public_id}"
    assert payload["verification"]["creator"].endswith(f"/ob2/issuers/default/keys/{rsa.kid}")
    hosted = json.loads(doc(initialized, award, "ob2-hosted"))
    assert hosted["id"] == award.formats["ob2-hosted"]
    assert hosted["recipient"]["identity"] == payload["recipient"]["identity"]
    assert hosted["expires"] == "2027-03-14T15:09:26Z"


@pytest.mark.parametrize(
    ("fmt", "kind", "source"),
    [
        ("ob2-png", baking.BakeKind.OB2, "ob2-signed"),
        ("ob2-svg", baking.BakeKind.OB2, "ob2-signed"),
        ("ob3-png", baking.BakeKind.OB3, "ob3-ldp"),
        ("ob3-svg", baking.BakeKind.OB3, "ob3-ldp"),
    ],
)
def test_baked_images_carry_the_signed_credential(initialized, ethics, fmt, kind, source):
    award = issue(initialized)
    baked = baking.extract_image(doc(initialized, award, fmt))
    assert baked is not None
    assert baked.kind is kind
    expected = doc(initialized, award, source).decode()
    assert (baked.payload if source == "ob3-ldp" else baked.verify or baked.payload) == expected


def test_issued_credentials_pass_both_official_schemas(initialized, ethics, spec_dir):
    award = issue(initialized, evidence=[EvidenceInput(narrative="Reflection: what I learned")])
    credential = json.loads(doc(initialized, award, "ob3-ldp"))
    name = "ob3_v3p0_achievementcredential_schema.json".replace("ob3_v3p0", "ob_v3p0")
    for variant in ("json", "json-ld-adaptation"):
        schema = json.loads((spec_dir / "ob_v3p0" / "schema" / variant / name).read_text())
        errors = list(Draft201909Validator(schema).iter_errors(credential))
        assert errors == [], f"{variant}: {errors[0].message}"


def test_did_recipient_becomes_the_subject_id(initialized, ethics):
    did = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    award = issue(initialized, recipient=did)
    credential = json.loads(doc(initialized, award, "ob3-ldp"))
    assert credential["credentialSubject"]["id"] == did
    token = doc(initialized, award, "ob3-jwt").decode()
    p256 = initialized.keystore.active_key("default", KeyAlgorithm.ES256)
    result = verify_vc_jwt(token, lambda kid, jwk: p256.public_pem, initialized.now())
    assert result.code == "verified", result.reason


def test_second_award_of_the_same_achievement_is_a_conflict_and_adds_nothing(initialized, ethics):
    issue(initialized)
    with pytest.raises(Conflict, match="already holds ethics"):
        issue(initialized, recipient="ADA@example.org ")
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count(Award.id))) == 1
        assert uow.session.scalar(select(func.count(StatusAllocation.id))) == 2


def test_a_failure_while_signing_leaves_nothing_half_issued(initialized, ethics, monkeypatch):
    from badger.services import issue as issue_module

    def broken(*args, **kwargs):
        raise RuntimeError("HSM unavailable")

    monkeypatch.setattr(issue_module, "sign_vc_jwt", broken)
    with pytest.raises(RuntimeError, match="HSM"):
        issue(initialized, recipient="grace@example.org")
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count(Award.id))) == 0
        assert uow.session.scalar(select(func.count(IssuedDocument.id))) == 0
        assert (
            uow.session.scalar(
                select(LearnerIdentifier.id).where(LearnerIdentifier.value == "grace@example.org")
            )
            is None
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"recipient": "not an email"}, "email"),
        ({"recipient": "https://ada.example.org"}, "recipient"),
        ({"evidence": [EvidenceInput(url="ftp://x")]}, "evidence[0].url"),
        ({"evidence": [EvidenceInput()]}, "evidence[0]"),
        ({"recipient_name": "x" * 201}, "recipient_name"),
    ],
)
def test_bad_issue_input_names_the_field(initialized, ethics, kwargs, field):
    with pytest.raises(ValidationError) as info:
        issue(initialized, **kwargs)
    assert info.value.field == field


def test_future_issue_date_is_refused(initialized, ethics):
    with pytest.raises(ValidationError, match="future"):
        issue(initialized, issued_on=initialized.now() + timedelta(days=2))


def test_unknown_achievement_is_not_found(initialized):
    with pytest.raises(NotFound, match="no achievement 'nope'"):
        issue_award(initialized, IssueRequest("nope", "a@example.org"), actor="t")


def _status_bit(ctx, credential_doc, purpose):
    entry = credential_doc["credentialStatus"]
    index = int(entry["statusListIndex"])
    list_id = entry["statusListCredential"].rsplit("/", 1)[1]
    if purpose == "suspension":
        with ctx.uow() as uow:
            from badger.store.models import StatusList

            row = uow.session.execute(
                select(StatusList.public_id, StatusAllocation.index)
                .join(StatusAllocation, StatusAllocation.status_list_id == StatusList.id)
                .join(Award, Award.id == StatusAllocation.award_id)
                .where(
                    StatusList.purpose == "suspension", Award.public_id == credential_doc["id"][9:]
                )
            ).one()
            list_id, index = row
    document, _ = status.status_list_document(ctx, list_id)
    signed = json.loads(document)
    assert verify_proof(signed, resolve_did_key).verified
    assert signed["credentialSubject"]["statusPurpose"] == purpose
    return decode_list(signed["credentialSubject"]["encodedList"]).get(index)


def test_revoke_sets_the_bit_in_a_re_signed_status_list(initialized, ethics):
    award = issue(initialized)
    credential = json.loads(doc(initialized, award, "ob3-ldp"))
    assert _status_bit(initialized, credential, "revocation") is False
    change = status.revoke(initialized, award.public_id, reason="Exam misconduct", actor="t")
    assert change.status == "revoked"
    assert _status_bit(initialized, credential, "revocation") is True
    with pytest.raises(Conflict, match="already revoked"):
        status.revoke(initialized, award.public_id, reason="again", actor="t")
    # The issued bytes never change: status lives in the list, not the document.
    assert json.loads(doc(initialized, award, "ob3-ldp")) == credential


def test_revocation_needs_a_reason(initialized, ethics):
    award = issue(initialized)
    with pytest.raises(ValidationError, match="reason"):
        status.revoke(initialized, award.public_id, reason="  ", actor="t")


def test_suspend_and_unsuspend_flip_the_suspension_bit(initialized, ethics):
    award = issue(initialized)
    credential = json.loads(doc(initialized, award, "ob3-ldp"))
    status.suspend(initialized, award.public_id, reason="hiatus", actor="t")
    assert _status_bit(initialized, credential, "suspension") is True
    with pytest.raises(Conflict):
        status.suspend(initialized, award.public_id, reason=None, actor="t")
    status.unsuspend(initialized, award.public_id, actor="t")
    assert _status_bit(initialized, credential, "suspension") is False
    with pytest.raises(Conflict, match="not suspended"):
        status.unsuspend(initialized, award.public_id, actor="t")


def test_status_indexes_are_distinct_across_awards(initialized, ethics):
    indexes = set()
    for n in range(5):
        award = issue(initialized, recipient=f"learner{n}@example.org")
        credential = json.loads(doc(initialized, award, "ob3-ldp"))
        indexes.add(credential["credentialStatus"]["statusListIndex"])
    assert len(indexes) == 5


def test_each_award_counts_in_its_lists_and_a_full_list_makes_way_for_a_new_one(
    initialized, ethics
):
    size = status.LIST_SIZE
    for n in range(3):
        issue(initialized, recipient=f"learner{n}@example.org")
    with initialized.uow() as uow:
        counts = uow.session.execute(
            select(StatusList.purpose, StatusList.allocated, StatusList.size)
        ).all()
        assert sorted(counts) == [("revocation", 3, size), ("suspension", 3, size)]
        # Fill the revocation list: the next award opens a second one there.
        uow.session.execute(
            update(StatusList).where(StatusList.purpose == "revocation").values(allocated=size)
        )
    award = issue(initialized, recipient="last@example.org")
    credential = json.loads(doc(initialized, award, "ob3-ldp"))
    with initialized.uow() as uow:
        lists = uow.session.execute(
            select(StatusList.public_id, StatusList.purpose, StatusList.allocated).order_by(
                StatusList.id
            )
        ).all()
    assert [(p, a) for _id, p, a in lists] == [
        ("revocation", size),
        ("suspension", 4),
        ("revocation", 1),
    ]
    assert credential["credentialStatus"]["statusListCredential"].endswith(lists[2][0])


def test_revoking_an_unknown_award_is_not_found(initialized):
    with pytest.raises(NotFound):
        status.revoke(initialized, "00000000-0000-0000-0000-000000000000", reason="x", actor="t")


def test_a_status_index_already_taken_is_drawn_again_for_that_list_only(
    initialized, ethics, monkeypatch
):
    def indexes(award_id):
        with initialized.uow() as uow:
            return dict(
                uow.session.execute(
                    select(StatusList.purpose, StatusAllocation.index)
                    .join(StatusList, StatusAllocation.status_list_id == StatusList.id)
                    .join(Award, StatusAllocation.award_id == Award.id)
                    .where(Award.public_id == award_id)
                ).all()
            )

    first = indexes(issue(initialized, "ada@example.org").public_id)  # opens both lists
    # The second award's first draws are the indexes the first one holds
    # (revocation, then suspension): both collide; the redraws are free.
    free = [n for n in (7, 9, 11, 13) if n not in first.values()][:2]
    draws = iter([first["revocation"], first["suspension"], *free])
    monkeypatch.setattr(status.bsl, "choose_index", lambda used, length: next(draws))
    second = indexes(issue(initialized, "grace@example.org").public_id)
    assert second == {"revocation": free[0], "suspension": free[1]}
    assert next(draws, None) is None  # each list drew exactly twice
    with initialized.uow() as uow:
        rows = uow.session.execute(
            select(StatusAllocation.status_list_id, StatusAllocation.index)
        ).all()
    assert len(set(rows)) == len(rows) == 4  # no list holds an index twice


def test_an_award_that_fails_after_its_insert_leaves_the_transaction_usable(initialized, ethics):
    # A URL recipient fails after the award row went in (OB credentials need an
    # email or a DID); as in a bulk run, its savepoint rolls back and the next
    # award, which SQLite gives the same ids, still goes in.
    from badger.services.issue import add_award

    with initialized.uow() as uow:
        savepoint = uow.session.begin_nested()
        with pytest.raises(ValidationError, match="email address or a DID"):
            add_award(
                initialized, uow, IssueRequest("ethics", "https://ada.example.org/"), actor="t"
            )
        savepoint.rollback()
        issued = add_award(initialized, uow, IssueRequest("ethics", "bob@example.org"), actor="t")
    with initialized.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Award)) == 1
        assert uow.session.scalar(select(Award.public_id)) == issued.public_id


def test_drawn_pictures_keep_few_uploaded_images_in_memory():
    # Each uploaded picture is a data URI of up to ~700 KB; a cache keyed by
    # it and holding the decoded bytes kept 256 of them (hundreds of MB).
    def row(i: int) -> SimpleNamespace:
        data = base64.b64encode(os.urandom(512 * 1024)).decode()
        return SimpleNamespace(
            slug=f"a{i}", name=f"A {i}", image_uri="data:image/png;base64," + data
        )

    first = row(0)
    assert achievement_image(first, "png") == base64.b64decode(first.image_uri.split(",", 1)[1])
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1, 41):
            achievement_image(row(i), "png")  # each row and its URI dropped after
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 16 * 1024 * 1024, f"{held / 2**20:.0f} MiB held for 40 pictures of 512 KiB"
