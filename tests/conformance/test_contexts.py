"""Every shipped JSON-LD context equals the reference copy in shared/spec (PROVENANCE.md)."""

import json

import pytest

from badger.proofs import jsonld
from badger.proofs.contexts import CONTEXT_FILES

OB2_URLS = {"https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json"}
# The one documented variant (PROVENANCE.md, FACTS §1.1): cert-schema's OB 2.0
# context predates the November 2020 change of targetFramework.
OB2_VARIANT = {
    "targetFramework": ({"@id": "schema:targetFramework"}, {"@id": "schema:educationalFramework"})
}


def load_index(spec_dir):
    return json.loads((spec_dir / "contexts-index.json").read_text("utf-8"))


def test_badger_ships_exactly_the_contexts_of_the_index(spec_dir):
    assert set(CONTEXT_FILES) == set(load_index(spec_dir))


@pytest.mark.parametrize("url", sorted(set(CONTEXT_FILES) - OB2_URLS))
def test_shipped_context_equals_the_reference_copy(spec_dir, url):
    reference = json.loads((spec_dir / load_index(spec_dir)[url]).read_text("utf-8"))
    assert jsonld.load_context(url) == reference


@pytest.mark.parametrize("url", sorted(OB2_URLS))
def test_ob2_context_variant_differs_only_in_the_documented_term(spec_dir, url):
    reference = json.loads((spec_dir / load_index(spec_dir)[url]).read_text("utf-8"))["@context"]
    shipped = jsonld.load_context(url)["@context"]
    assert set(shipped) == set(reference)
    for term, definition in shipped.items():
        if term in OB2_VARIANT:
            assert (definition, reference[term]) == OB2_VARIANT[term]
        else:
            assert definition == reference[term], term


@pytest.mark.parametrize(
    "url",
    [
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/clr/v2p0/context.json",
    ],
)
def test_hand_written_clr_contexts_match_term_for_term(spec_dir, url):
    reference = json.loads((spec_dir / load_index(spec_dir)[url]).read_text("utf-8"))["@context"]
    shipped = jsonld.load_context(url)["@context"]
    assert list(shipped) == list(reference)
    for term in reference:
        assert shipped[term] == reference[term], term


def test_the_1edtech_validator_copy_of_3_0_3_only_adds_terms(spec_dir):
    variant = json.loads(
        (spec_dir / "ob_v3p0/context/variants/context-3.0.3.1edtech-validator-copy.json").read_text(
            "utf-8"
        )
    )["@context"]
    shipped = jsonld.load_context("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json")[
        "@context"
    ]
    assert set(shipped) <= set(variant)
