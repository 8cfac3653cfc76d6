"""The JSON Schemas shipped in badger.verify.schemas equal the official ones (PROVENANCE.md).

No registry package ships the OB 3.0 / CLR 2.0 schemas, so badger's copies
were written from the specification; this proves each one JSON-equal to the
reference copy in shared/spec except for ``$id``, which PROVENANCE.md
documents, and pins the sha256 recorded there.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator

from badger.verify.schemas import SCHEMA_FILES, VERIFIER_SCHEMAS, load_schema, verifier_schema_url

OB = "https://purl.imsglobal.org/spec/ob/v3p0/schema"
CLR = "https://purl.imsglobal.org/spec/clr/v2p0/schema"

# badger file → (reference file under shared/spec, the reference's own $id)
REFERENCE = {
    **{
        f"ob_v3p0_{name}_strict.json": (
            f"ob_v3p0/schema/json/ob_v3p0_{name}_schema.json",
            f"{OB}/json/ob_v3p0_{name}-jsonschema1.json",
        )
        for name in ("achievementcredential", "endorsementcredential", "profile")
    },
    **{
        f"ob_v3p0_{name}_jsonld.json": (
            f"ob_v3p0/schema/json-ld-adaptation/ob_v3p0_{name}_schema.json",
            f"{OB}/json/ob_v3p0_{name}_schema.json",
        )
        for name in ("achievementcredential", "endorsementcredential", "profile")
    },
    "clr_v2p0_clrcredential_jsonld.json": (
        "clr_v2p0/schema/json-ld-adaptation/clr_v2p0_clrcredential_schema.json",
        f"{CLR}/json/clr_v2p0_clrcredential_schema.json",
    ),
}


def shipped_text(filename: str) -> str:
    return resources.files("badger.verify.schemas").joinpath(filename).read_text("utf-8")


def test_every_shipped_schema_has_a_reference():
    assert set(SCHEMA_FILES.values()) == set(REFERENCE)


@pytest.mark.parametrize(("url", "filename"), sorted(SCHEMA_FILES.items()))
def test_shipped_schema_equals_the_reference_except_its_id(spec_dir: Path, url, filename):
    reference_path, reference_id = REFERENCE[filename]
    reference = json.loads((spec_dir / reference_path).read_text("utf-8"))
    shipped = json.loads(shipped_text(filename))
    assert shipped["$id"] == url
    assert reference["$id"] == reference_id
    assert {**shipped, "$id": None} == {**reference, "$id": None}
    assert load_schema(url) == shipped
    Draft201909Validator.check_schema(shipped)


def test_provenance_records_each_files_sha256():
    provenance = shipped_text("PROVENANCE.md")
    for filename in REFERENCE:
        digest = hashlib.sha256(shipped_text(filename).encode("utf-8")).hexdigest()
        row = re.search(rf"`{re.escape(filename)}` \|[^\n]*`([0-9a-f]{{64}})`", provenance)
        assert row is not None, filename
        assert row.group(1) == digest, filename


def test_the_verifier_validates_with_the_json_ld_adaptation():
    for class_name in ("AchievementCredential", "OpenBadgeCredential", "EndorsementCredential"):
        assert "/schema/json-ld/" in VERIFIER_SCHEMAS[class_name]
    assert verifier_schema_url(f"{OB}/json/ob_v3p0_achievementcredential_schema.json") == (
        f"{OB}/json-ld/ob_v3p0_achievementcredential_schema.json"
    )
    assert verifier_schema_url("https://example.org/other.json") is None


def test_a_single_proof_object_fails_the_strict_schema_but_passes_the_adaptation(spec_dir):
    # FACTS §5.3: the 1EdTech test vector carries one proof object, not an array.
    vector = json.loads(
        (spec_dir / "ob_v3p0" / "test-vectors" / "obv3p0" / "credential-signed.json").read_text()
    )
    assert isinstance(vector["proof"], dict)
    strict = Draft201909Validator(
        load_schema(f"{OB}/json/ob_v3p0_achievementcredential_schema.json")
    )
    adaptation = Draft201909Validator(load_schema(VERIFIER_SCHEMAS["AchievementCredential"]))
    assert not strict.is_valid(vector)
    assert adaptation.is_valid(vector)
