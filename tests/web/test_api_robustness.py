"""Whatever JSON a client sends to the API's write endpoints, the answer is a 4xx naming
the problem, never a 500: property tests over bodies shaped like the real ones, each
field holding a plausible value or any JSON value at all."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badger.services import accounts, catalog, review
from badger.services.catalog import spec_from_json
from tests.conftest import ADMIN_EMAIL

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
ANY = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def shaped(required, optional):
    """A body with each required field (plausible or any JSON) and some optional ones."""
    return st.fixed_dictionaries(
        {name: st.just(value) | ANY for name, value in required.items()},
        optional={name: st.just(value) | ANY for name, value in optional.items()},
    )


EVENTS = shaped(
    {"recipient": "ada@example.org", "kind": "quiz.completed"},
    {"occurred_at": "2026-01-01", "recipient_name": "Ada", "data": {"score": 90}},
)
ACHIEVEMENTS = shaped(
    {"slug": "ethics-2", "name": "E", "description": "d", "criteria_narrative": "c"},
    {
        "rules": {"earned": "ethics"},
        "credits_available": 1,
        "credit_category": "x",
        "tags": ["a"],
        "alignments": [{"target_name": "n", "target_url": "https://e.org"}],
        "image_uri": "https://e.org/i.png",
        "validity_days": 30,
        "achievement_type": "Badge",
    },
)
SUBMISSIONS = shaped(
    {"kind": "activity"},
    {
        "achievement": "ethics",
        "url": "https://e.org",
        "narrative": "n",
        "title": "t",
        "credits": 1,
        "category": "c",
        "learning_minutes": 30,
    },
) | shaped(
    {"kind": "evidence"}, {"achievement": "ethics", "url": "https://e.org", "narrative": "n"}
)
DECISIONS = shaped({"decision": "return"}, {"comment": "again"})

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def api(client, initialized):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=spec_from_json(
            {
                "slug": "ethics",
                "name": "Ethics",
                "description": "d",
                "criteria_narrative": "c",
                "rules": {"evidence_approved": "ethics"},
            }
        ),
    )
    admin = accounts.find_account(initialized, ADMIN_EMAIL)
    token = accounts.create_api_token(initialized, account_public_id=admin.public_id, name="t")
    return client, {"Authorization": f"Bearer {token}"}, admin


def _check(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert response.is_json
        assert response.json.get("errors") or response.json.get("message")


@FUZZ
@given(body=EVENTS | ANY)
def test_events(api, body):
    client, auth, _ = api
    _check(client.post("/api/v1/events", json=body, headers={**auth, "Idempotency-Key": "k"}))


@FUZZ
@given(body=ACHIEVEMENTS | ANY)
def test_defining_and_changing_achievements(api, body):
    client, auth, _ = api
    _check(client.post("/api/v1/achievements", json=body, headers=auth))
    _check(client.put("/api/v1/achievements/ethics", json=body, headers=auth))


@FUZZ
@given(body=SUBMISSIONS | ANY)
def test_submissions(api, body):
    client, auth, _ = api
    _check(client.post("/api/v1/submissions", json=body, headers=auth))


@FUZZ
@given(body=DECISIONS | ANY)
def test_review_decisions(api, initialized, body):
    client, auth, admin = api
    waiting = review.queue(initialized)  # one submission per achievement may wait
    submitted = (
        waiting[0].submission
        if waiting
        else review.submit_evidence(
            initialized,
            learner_public_id=admin.learner_public_id,
            achievement="ethics",
            url="https://e.org/work",
            narrative=None,
            file=None,
            actor="t",
        )
    )
    _check(client.post(f"/api/v1/review/{submitted.public_id}", json=body, headers=auth))
