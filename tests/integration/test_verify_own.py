"""Every rendering badger issues verifies as valid; revoked and tampered ones say why."""

import json
from decimal import Decimal

import pytest

from badger.domain.achievements import AchievementSpec
from badger.services import catalog, status
from badger.services.issue import IssueRequest, get_document, issue_award
from badger.services.verification import verify_input


@pytest.fixture
def award(initialized):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics",
            description="The ethics unit.",
            criteria_narrative="Pass the quiz.",
            credits_available=Decimal("1.5"),
            credit_category="ethics",
            validity_days=365,
        ),
    )
    return issue_award(initialized, IssueRequest("ethics", "ada@example.org"), actor="t")


FORMATS = ["ob3-ldp", "ob3-jwt", "ob2-signed", "ob2-png", "ob2-svg", "ob3-png", "ob3-svg"]


def _check(report, step):
    return [c for c in report.checks if c.step.value == step]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_issued_rendering_verifies(initialized, award, fmt):
    data = get_document(initialized, award.public_id, fmt).content
    report = verify_input(initialized, data, recipient="ada@example.org", offline=True)
    assert report.verdict.value == "valid", report.as_json()
    assert any(c.status.value == "passed" for c in _check(report, "signature"))
    assert any(c.status.value == "passed" for c in _check(report, "recipient"))


def test_hosted_assertion_url_verifies_locally(initialized, award):
    report = verify_input(initialized, award.formats["ob2-hosted"], offline=True)
    assert report.verdict.value == "valid", report.as_json()


def test_wrong_recipient_is_invalid(initialized, award):
    data = get_document(initialized, award.public_id, "ob3-ldp").content
    report = verify_input(initialized, data, recipient="eve@example.org", offline=True)
    assert report.verdict.value == "invalid"
    assert _check(report, "recipient")[0].status.value == "failed"


@pytest.mark.parametrize("fmt", ["ob3-ldp", "ob3-jwt", "ob2-signed", "ob3-png"])
def test_revoked_renderings_read_revoked(initialized, award, fmt):
    status.revoke(initialized, award.public_id, reason="Issued in error", actor="t")
    data = get_document(initialized, award.public_id, fmt).content
    report = verify_input(initialized, data, offline=True)
    assert report.verdict.value == "revoked", report.as_json()


def test_revoked_hosted_assertion_reads_revoked(initialized, award):
    status.revoke(initialized, award.public_id, reason="Issued in error", actor="t")
    report = verify_input(initialized, award.formats["ob2-hosted"], offline=True)
    assert report.verdict.value == "revoked", report.as_json()


def test_tampered_credential_is_invalid_not_revoked(initialized, award):
    credential = json.loads(get_document(initialized, award.public_id, "ob3-ldp").content)
    credential["credentialSubject"]["creditsEarned"] = 30
    report = verify_input(initialized, json.dumps(credential), offline=True)
    assert report.verdict.value == "invalid"
    assert _check(report, "signature")[0].status.value == "failed"


@pytest.mark.parametrize(
    "garbage", [b"", b"\x00\x01\x02", "hello", "{", "[]", "a.b.c", b"\x89PNG\r\n\x1a\n"]
)
def test_garbage_is_unusable(initialized, garbage):
    report = verify_input(initialized, garbage, offline=True)
    assert report.verdict.value == "unusable"


def test_offline_refuses_remote_urls(initialized):
    report = verify_input(initialized, "https://badges.elsewhere.example/a/1", offline=True)
    assert report.verdict.value == "unusable"
    assert "offline" in report.checks[0].message


def test_private_addresses_are_never_fetched(initialized):
    report = verify_input(initialized, "http://169.254.169.254/latest/meta-data", offline=False)
    assert report.verdict.value == "unusable"


ASSETS = __import__("pathlib").Path(__file__).resolve().parents[1] / "assets" / "svg"


@pytest.mark.parametrize("name", ["billion-laughs.svg", "external-entity.svg", "external-dtd.svg"])
def test_hostile_svgs_are_unusable_not_a_crash(initialized, name):
    report = verify_input(initialized, (ASSETS / name).read_bytes(), offline=True)
    assert report.verdict.value == "unusable"


def test_a_png_bomb_is_unusable_not_a_crash(initialized):
    import struct
    import zlib

    from tests.unit.credentials.test_baking import png_chunk

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 400_004, 9))
        + png_chunk(b"IEND", b"")
    )
    assert verify_input(initialized, bomb, offline=True).verdict.value == "unusable"


def test_deeply_nested_json_is_unusable(initialized):
    assert (
        verify_input(initialized, "[" * 100_000 + "]" * 100_000, offline=True).verdict.value
        == "unusable"
    )
