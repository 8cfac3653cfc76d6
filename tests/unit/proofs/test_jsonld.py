"""The static JSON-LD loader, RDFC-1.0 canonicalization and the undefined-terms check."""

import copy
import hashlib
import json
import re
import string
from datetime import UTC, datetime
from importlib import resources

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld

from badger.proofs import jsonld
from badger.proofs.contexts import CONTEXT_FILES

VC2 = "https://www.w3.org/ns/credentials/v2"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CLR201 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"


def minimal_credential(**extra):
    document = {
        "@context": [VC2, OB303],
        "id": "urn:uuid:2d4f6a18-4c8c-4b7a-9c55-0c1c0b9c1f0e",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example/issuers/1", "type": ["Profile"], "name": "Issuer"},
        "validFrom": "2024-05-01T12:00:00Z",
        "name": "Badge",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.example/achievements/7",
                "type": ["Achievement"],
                "name": "Achievement",
                "criteria": {"narrative": "Do the thing."},
            },
        },
    }
    document.update(extra)
    return document


# ---------------------------------------------------------------- the static loader


@pytest.mark.parametrize("url", sorted(CONTEXT_FILES))
def test_loader_serves_every_shipped_context(url):
    remote = jsonld.document_loader(url)
    assert remote["documentUrl"] == url
    assert isinstance(remote["document"]["@context"], dict | list)


def test_loader_hands_out_copies_so_callers_cannot_corrupt_the_shipped_context():
    first = jsonld.document_loader(VC2)["document"]
    first["@context"]["id"] = "tampered"
    assert jsonld.document_loader(VC2)["document"]["@context"]["id"] == "@id"


_url_like = st.one_of(
    st.text(),
    st.builds(
        lambda scheme, host, path: f"{scheme}://{host}/{path}",
        st.sampled_from(["http", "https", "file", "ftp", "data", "HTTPS"]),
        st.text(alphabet=string.ascii_lowercase + ".-", min_size=1, max_size=20),
        st.text(max_size=30),
    ),
    # Near misses of real URLs must be refused too: no normalisation.
    st.sampled_from(sorted(CONTEXT_FILES)).flatmap(
        lambda url: st.sampled_from(
            [url + "/", url.replace("https://", "http://"), url.upper(), url + "#", " " + url]
        )
    ),
)


@given(_url_like)
@example("https://www.w3.org/ns/credentials/v2/")
@example("http://localhost/context.json")
def test_loader_refuses_every_url_it_does_not_ship(url):
    if url in CONTEXT_FILES:
        return
    with pytest.raises(jsonld.ContextNotAllowed) as caught:
        jsonld.document_loader(url)
    assert caught.value.url == url
    assert caught.value.code == "context_not_allowed"


@pytest.mark.parametrize("engine", ["auto", "fast", "reference"])
def test_canonicalizing_a_document_with_an_unknown_context_is_refused(engine):
    document = minimal_credential()
    document["@context"] = [VC2, "https://evil.example/context.json"]
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.canonicalize(document, engine=engine)
    if engine == "fast":
        assert isinstance(caught.value, jsonld.FastPathUnsupported)
    else:
        assert isinstance(caught.value, jsonld.ContextNotAllowed)
        assert caught.value.url == "https://evil.example/context.json"
        assert isinstance(caught.value.__cause__, pyld_jsonld.JsonLdError)


def test_invalid_json_ld_becomes_badgers_error_with_the_pyld_cause_chained():
    document = minimal_credential()
    document["@context"] = [VC2, OB303, {"id": "not-a-keyword-alias", "@version": 2}]
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.canonicalize(document)
    assert not isinstance(caught.value, jsonld.ContextNotAllowed)
    assert isinstance(caught.value.__cause__, pyld_jsonld.JsonLdError)


def test_expand_uses_only_shipped_contexts():
    expanded = jsonld.expand(minimal_credential())
    assert expanded[0]["@type"] == [
        "https://www.w3.org/2018/credentials#VerifiableCredential",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
    ]


def test_unknown_engine_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown canonicalization engine"):
        jsonld.canonicalize(minimal_credential(), engine="quick")  # type: ignore[arg-type]


def test_every_shipped_file_is_mapped_and_its_sha256_recorded_in_provenance():
    package = resources.files("badger.proofs.contexts")
    provenance = package.joinpath("PROVENANCE.md").read_text("utf-8")
    shipped = {
        entry.name for entry in package.iterdir() if entry.name.endswith((".json", ".jsonld"))
    }
    assert shipped == set(CONTEXT_FILES.values())
    for name in sorted(shipped):
        digest = hashlib.sha256(package.joinpath(name).read_bytes()).hexdigest()
        row = next(line for line in provenance.splitlines() if f"| `{name}` |" in line)
        assert digest in row, f"PROVENANCE.md records the wrong sha256 for {name}"


# ---------------------------------------------------------------- undefined terms (safe mode)


def status_credential(*contexts):
    return minimal_credential(
        **{
            "@context": list(contexts),
            "credentialStatus": {
                "id": "https://issuer.example/status/1#23",
                "type": "1EdTechRevocationList",
            },
        }
    )


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_1edtech_revocation_list_is_undefined_without_the_extensions_context(engine):
    found = jsonld.undefined_terms(status_credential(VC2, OB303), engine=engine)
    assert found == [jsonld.UndefinedTerm("type", "1EdTechRevocationList")]
    assert "1EdTechRevocationList" in str(found[0])


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_1edtech_revocation_list_is_defined_with_the_extensions_context(engine):
    assert jsonld.undefined_terms(status_credential(VC2, OB303, OB_EXTENSIONS), engine=engine) == []


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_dropped_properties_and_relative_ids_are_reported(engine):
    document = minimal_credential()
    document["credentialSubject"]["favouriteColour"] = "green"
    document["credentialSubject"]["achievement"]["id"] = "achievements/7"
    found = jsonld.undefined_terms(document, engine=engine)
    assert found == [
        jsonld.UndefinedTerm("id", "achievements/7"),
        jsonld.UndefinedTerm("property", "favouriteColour"),
    ]
    assert {term.kind for term in found} == {"id", "property"}
    assert all(term.reason for term in found)


def test_strict_canonicalization_refuses_undefined_terms_on_both_engines():
    for engine in ("auto", "reference"):
        with pytest.raises(jsonld.UndefinedTermsError) as caught:
            jsonld.canonicalize(status_credential(VC2, OB303), engine=engine, strict=True)
        assert caught.value.terms == [jsonld.UndefinedTerm("type", "1EdTechRevocationList")]


def test_a_clean_credential_has_no_undefined_terms():
    assert jsonld.undefined_terms(minimal_credential()) == []


def test_fast_engine_declines_documents_outside_its_subset():
    document = minimal_credential()
    document["@context"] = [VC2, OB303, {"nickname": "https://example.org/nickname"}]
    document["nickname"] = "Bee"
    with pytest.raises(jsonld.FastPathUnsupported, match="@context"):
        jsonld.canonicalize(document, engine="fast")
    assert jsonld.canonicalize(document) == jsonld.canonicalize(document, engine="reference")
    assert jsonld.undefined_terms(document) == []


# ---------------------------------------------------------------- fast engine == reference

_SPECIAL_TEXT = st.sampled_from(
    [
        "",
        '"quoted"',
        "line\nbreak",
        "tab\tand\rreturn",
        "back\\slash",
        "é漢字🎓",
        "\u2028\u2029",
        "\x00\x08\x0b\x0c\x1f\x7f",
        "\ufffe",
        "   ",
        "@context",
        "urn:not:an:iri but text",
    ]
)
_text = st.one_of(_SPECIAL_TEXT, st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
_segment = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=12)
_http_iri = st.builds(lambda host, path: f"https://{host}.example/{path}", _segment, _segment)
_urn = st.uuids().map(lambda value: f"urn:uuid:{value}")
_iri = st.one_of(_http_iri, _urn, st.builds(lambda s: f"did:example:{s}", _segment))
# Hypothesis wants naive bounds and adds the zone itself.
_date_time = st.datetimes(
    min_value=datetime(1900, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda value: value.strftime("%Y-%m-%dT%H:%M:%SZ"))
_date = st.dates().map(lambda value: value.isoformat())
_number = st.one_of(
    st.integers(min_value=-(10**22), max_value=10**22),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 0.5, 1.0, 2.5, 1e21, 1e-7, -0.0, 12345678901234567890]),
)


def _maybe(draw, key, strategy, into):
    if draw(st.booleans()):
        into[key] = draw(strategy)


@st.composite
def _image(draw):
    image = {"id": draw(_http_iri), "type": "Image"}
    _maybe(draw, "caption", _text, image)
    return image


@st.composite
def _alignment(draw):
    alignment = {"type": ["Alignment"], "targetName": draw(_text), "targetUrl": draw(_http_iri)}
    _maybe(draw, "targetCode", _text, alignment)
    _maybe(draw, "targetDescription", _text, alignment)
    _maybe(
        draw,
        "targetType",
        st.sampled_from(["CFItem", "ceterms:Credential", "ext:Custom"]),
        alignment,
    )
    return alignment


@st.composite
def _result_description(draw):
    description = {
        "id": draw(_urn),
        "type": ["ResultDescription"],
        "name": draw(_text),
        "resultType": draw(st.sampled_from(["LetterGrade", "Percent", "ext:Points"])),
    }
    _maybe(draw, "allowedValue", st.lists(_text, max_size=4), description)
    _maybe(draw, "requiredLevel", _http_iri, description)
    _maybe(draw, "valueMax", _text, description)
    return description


@st.composite
def _evidence(draw):
    evidence = {"type": ["Evidence"]}
    _maybe(draw, "id", _http_iri, evidence)
    _maybe(draw, "name", _text, evidence)
    _maybe(draw, "narrative", _text, evidence)
    _maybe(draw, "genre", _text, evidence)
    _maybe(draw, "audience", _text, evidence)
    return evidence


@st.composite
def _achievement(draw):
    achievement = {
        "id": draw(_iri),
        "type": ["Achievement"],
        "name": draw(_text),
        "criteria": draw(
            st.one_of(
                st.builds(lambda narrative: {"narrative": narrative}, _text),
                st.builds(lambda iri: {"id": iri}, _http_iri),
            )
        ),
    }
    _maybe(draw, "description", _text, achievement)
    _maybe(draw, "image", _image(), achievement)
    _maybe(
        draw, "achievementType", st.sampled_from(["Badge", "Certificate", "ext:Thing"]), achievement
    )
    _maybe(draw, "creditsAvailable", _number, achievement)
    _maybe(draw, "tag", st.lists(_text, max_size=3), achievement)
    _maybe(draw, "alignment", st.lists(_alignment(), max_size=2), achievement)
    _maybe(draw, "resultDescription", st.lists(_result_description(), max_size=2), achievement)
    _maybe(draw, "humanCode", _text, achievement)
    return achievement


@st.composite
def _result(draw):
    result = {"type": ["Result"]}
    _maybe(draw, "resultDescription", _urn, result)
    _maybe(draw, "value", _text, result)
    _maybe(draw, "status", st.sampled_from(["Completed", "Enrolled", "Failed"]), result)
    _maybe(draw, "achievedLevel", _http_iri, result)
    return result


@st.composite
def _subject(draw):
    subject = {"type": ["AchievementSubject"], "achievement": draw(_achievement())}
    _maybe(draw, "id", _iri, subject)
    _maybe(draw, "creditsEarned", _number, subject)
    _maybe(draw, "activityStartDate", _date, subject)
    _maybe(draw, "result", st.lists(_result(), max_size=3), subject)
    _maybe(draw, "term", _text, subject)
    _maybe(draw, "licenseNumber", _text, subject)
    if draw(st.booleans()):
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "hashed": draw(st.booleans()),
                "identityHash": draw(_text),
                "identityType": "emailAddress",
                "salt": draw(_text),
            }
        ]
    return subject


@st.composite
def ob3_credentials(draw):
    """OB 3.0-shaped credentials, with the optional parts badger may emit."""
    contexts = [VC2, OB303]
    issuer = {"id": draw(_iri), "type": ["Profile"], "name": draw(_text)}
    _maybe(draw, "url", _http_iri, issuer)
    _maybe(draw, "email", _text, issuer)
    _maybe(draw, "image", _image(), issuer)
    credential = {
        "@context": contexts,
        "id": draw(_urn),
        "type": [
            "VerifiableCredential",
            draw(st.sampled_from(["OpenBadgeCredential", "AchievementCredential"])),
        ],
        "issuer": issuer,
        "validFrom": draw(_date_time),
        "credentialSubject": draw(_subject()),
    }
    _maybe(draw, "name", _text, credential)
    _maybe(draw, "description", _text, credential)
    _maybe(draw, "validUntil", _date_time, credential)
    _maybe(draw, "evidence", st.lists(_evidence(), max_size=3), credential)
    if draw(st.booleans()):
        contexts.append(OB_EXTENSIONS)
        credential["credentialSchema"] = [
            {
                "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                "type": "1EdTechJsonSchemaValidator2019",
            }
        ]
    if draw(st.booleans()):
        credential["credentialStatus"] = {
            "id": draw(_http_iri) + "#" + str(draw(st.integers(0, 131071))),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(draw(st.integers(0, 131071))),
            "statusListCredential": draw(_http_iri),
        }
        if draw(st.booleans()):
            # statusMessage carries a property-scoped context (VC 2.0 context).
            credential["credentialStatus"]["statusMessage"] = [
                {"status": "0x0", "message": draw(_text)},
                {"status": "0x1", "message": draw(_text)},
            ]
    if draw(st.booleans()):
        # An undefined property and an undefined type: both engines must drop
        # and resolve them identically.
        credential["credentialSubject"]["notInTheContext"] = draw(_text)
    if draw(st.booleans()):
        credential["proof"] = [
            {
                "type": "DataIntegrityProof",
                "created": draw(_date_time),
                "verificationMethod": draw(_http_iri)
                + "#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
                "proofValue": "z"
                + draw(st.text(string.ascii_letters + string.digits, max_size=10)),
            }
        ]
    return credential


@st.composite
def clr_credentials(draw):
    """A ClrCredential embedding OB 3.0 credentials, each with its own @context."""
    return {
        "@context": [VC2, CLR201, OB303],
        "id": draw(_urn),
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": draw(_http_iri), "type": ["Profile"], "name": draw(_text)},
        "validFrom": draw(_date_time),
        "name": draw(_text),
        "credentialSubject": {
            "type": ["ClrSubject"],
            "id": draw(_iri),
            "verifiableCredential": draw(st.lists(ob3_credentials(), min_size=1, max_size=2)),
        },
    }


def assert_engines_agree(document):
    reference = jsonld.canonicalize(document, engine="reference")
    declined = ""
    try:
        fast = jsonld.canonicalize(document, engine="fast")
    except jsonld.FastPathUnsupported as exc:
        declined, fast = exc.reason, jsonld.canonicalize(document, engine="auto")
    # The only acceptable reason for an OB-shaped document to leave the fast
    # path: automorphic blank nodes, which need RDFC-1.0's N-degree hashing.
    assert not declined or "first-degree hash" in declined
    assert fast == reference
    assert jsonld.undefined_terms(document) == jsonld.undefined_terms(document, engine="reference")


_slow_ok = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_slow_ok
@given(ob3_credentials())
def test_fast_canonicalization_is_byte_identical_to_pyld_urdna2015(document):
    assert_engines_agree(document)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(clr_credentials())
def test_fast_canonicalization_matches_pyld_for_clr_with_embedded_credentials(document):
    assert_engines_agree(document)


def test_fast_engine_handles_an_ordinary_credential_without_falling_back():
    document = minimal_credential(
        proof=[
            {
                "type": "DataIntegrityProof",
                "created": "2024-05-01T12:00:00Z",
                "verificationMethod": "https://issuer.example/issuers/1#key",
                "cryptosuite": "eddsa-rdfc-2022",
                "proofPurpose": "assertionMethod",
            }
        ]
    )
    assert jsonld.canonicalize(document, engine="fast") == jsonld.canonicalize(
        document, engine="reference"
    )


def test_canonical_output_is_sorted_unique_n_quads_lines():
    nquads = jsonld.canonicalize(minimal_credential())
    lines = nquads.splitlines(keepends=True)
    assert lines == sorted(set(lines))
    assert all(line.endswith(" .\n") for line in lines)
    assert re.search(r"_:c14n0 ", nquads)


def test_identical_blank_nodes_fall_back_to_the_reference_engine():
    document = minimal_credential(
        evidence=[{"type": ["Evidence"], "name": "same"}, {"type": ["Evidence"], "name": "same"}]
    )
    # Two identical evidence nodes may even collapse in RDF; a third
    # distinguishes nothing either, so only ties remain to be broken.
    document["evidence"].append({"type": ["Evidence"], "name": "same", "genre": "x"})
    document["evidence"].append({"type": ["Evidence"], "name": "same", "genre": "x"})
    with pytest.raises(jsonld.FastPathUnsupported, match="first-degree"):
        jsonld.canonicalize(document, engine="fast")
    assert jsonld.canonicalize(document) == jsonld.canonicalize(document, engine="reference")


def test_canonicalization_does_not_mutate_its_input():
    document = minimal_credential()
    before = copy.deepcopy(document)
    for engine in ("fast", "reference"):
        jsonld.canonicalize(document, engine=engine)
    assert document == before
    assert json.dumps(document) == json.dumps(before)


def _edge(mutate):
    document = minimal_credential()
    mutate(document)
    return document


def _set(path, value):
    def mutate(document):
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


_ACHIEVEMENT = ("credentialSubject", "achievement")

EDGE_DOCUMENTS = {
    "value-object": _edge(_set(("name",), {"@value": "Badge", "@language": "en"})),
    "json-literal": _edge(
        _set(
            ("credentialSchema",),
            [
                {
                    "id": "https://x.example/s",
                    "type": "JsonSchema",
                    "jsonSchema": {"b": [1, "x"], "a": None},
                }
            ],
        )
    ),
    "included-block": _edge(_set(("@included",), [{"id": "https://x.example/n", "name": "n"}])),
    "list-of-lists": _edge(
        _set(
            (*_ACHIEVEMENT, "resultDescription"),
            [{"id": "urn:x:rd", "type": ["ResultDescription"], "allowedValue": [["A", "B"], "C"]}],
        )
    ),
    "empty-list": _edge(
        _set(
            (*_ACHIEVEMENT, "resultDescription"),
            [{"id": "urn:x:rd", "type": ["ResultDescription"], "allowedValue": []}],
        )
    ),
    "single-list-value": _edge(
        _set(
            (*_ACHIEVEMENT, "resultDescription"),
            [
                {
                    "id": "urn:x:rd",
                    "type": ["ResultDescription"],
                    "allowedValue": "A",
                    "valueMax": None,
                }
            ],
        )
    ),
    "graph-holding-a-string": _edge(_set(("proof",), "z123")),
    "graph-holding-null": _edge(_set(("proof",), [None])),
    "two-type-keys": _edge(_set(("@type",), ["https://x.example/T"])),
    "blank-node-id": _edge(_set(("credentialSubject", "id"), "_:b0")),
    "top-level-graph": _edge(_set(("@graph",), [{"id": "https://x.example/n"}])),
    "nested-context-url": _edge(
        _set(
            ("evidence",),
            [{"@context": OB_EXTENSIONS, "type": ["Evidence"], "name": "e"}],
        )
    ),
    "numbers-and-booleans": _edge(
        lambda d: d["credentialSubject"]["achievement"].update(
            {
                "creditsAvailable": 10**22,
                "humanCode": True,
                "version": -0.0,
                "fieldOfStudy": 5.0,
                "specialization": 2.5,
                "tag": ["1.5", 7, False, None, [1, [2]]],
            }
        )
    ),
    "float-typed-string": _edge(_set((*_ACHIEVEMENT, "creditsAvailable"), "2.50")),
    "nulls-and-empties": _edge(
        lambda d: d.update({"description": None, "evidence": [], "awardedDate": None})
    ),
    "relative-vocab-value": _edge(
        _set(
            ("proof",),
            [
                {
                    "type": "DataIntegrityProof",
                    "proofPurpose": "somethingElse",
                    "cryptosuite": "eddsa-rdfc-2022",
                }
            ],
        )
    ),
    "subject-reference-in-scoped-property": _edge(
        _set(("credentialSubject", "achievement"), {"id": "https://x.example/a"})
    ),
    "keyword-lookalike-key": _edge(_set(("@foo",), "bar")),
    "vc-1.1-credential-schema": {
        "@context": ["https://www.w3.org/2018/credentials/v1", OB303],
        "id": "urn:uuid:0e6b3f1a-5d7e-4a43-9a53-2c1f6f3b7a90",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example/1", "type": "Profile", "name": "I"},
        "issuanceDate": "2020-01-01T00:00:00Z",
        "credentialSchema": {
            "id": "https://x.example/schema.json",
            "type": "JsonSchemaValidator2018",
        },
        "credentialSubject": {"id": "did:example:1", "type": "AchievementSubject"},
    },
    "dropped-key-with-nested-object": _edge(_set(("unknown",), {"type": "Thing", "x": 1})),
}


@pytest.mark.parametrize("name", sorted(EDGE_DOCUMENTS))
def test_edge_documents_give_the_reference_result_on_every_engine(name):
    document = EDGE_DOCUMENTS[name]
    try:
        reference = jsonld.canonicalize(document, engine="reference")
    except jsonld.JsonLdError as error:
        with pytest.raises(type(error)):
            jsonld.canonicalize(document)
        return
    assert jsonld.canonicalize(document) == reference
    try:
        fast = jsonld.canonicalize(document, engine="fast")
    except jsonld.FastPathUnsupported:
        fast = reference
    assert fast == reference
    assert jsonld.undefined_terms(document) == jsonld.undefined_terms(document, engine="reference")


def test_a_non_object_document_is_left_to_the_reference_engine():
    with pytest.raises(jsonld.FastPathUnsupported, match="not a JSON object"):
        jsonld.canonicalize([minimal_credential()], engine="fast")  # type: ignore[arg-type]
    assert jsonld.canonicalize([minimal_credential()]) == jsonld.canonicalize(minimal_credential())  # type: ignore[arg-type]


def test_undefined_terms_fast_engine_declines_like_canonicalize():
    document = minimal_credential()
    document["@context"] = [VC2, OB303, {"nickname": "https://example.org/nickname"}]
    with pytest.raises(jsonld.FastPathUnsupported):
        jsonld.undefined_terms(document, engine="fast")


def test_known_context_helpers_answer_exact_urls_only():
    assert jsonld.known_context_urls() == frozenset(CONTEXT_FILES)
    assert jsonld.is_known_context(VC2)
    assert not jsonld.is_known_context(VC2 + "/")
