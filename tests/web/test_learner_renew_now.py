"""A learner renews their own satisfied cycle from the renewal page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from badger.services import catalog, cycles
from badger.store.models import Achievement, AuditEntry, Award
from tests.integration.test_cycles import ADA, CATALOGUE, START, earn, earn_full, policy_doc


@pytest.fixture
def cycle(initialized, create_account):
    catalog.create_achievements(initialized, issuer_slug="default", specs=CATALOGUE, actor="t")
    create_account(ADA, name="Ada Strategist")
    cycles.import_policy(initialized, policy_doc(), actor="t")
    return cycles.start_cycle(initialized, recipient=ADA, policy_key="csms", start=START, actor="t")


def renewal_awards(ctx):
    with ctx.uow() as uow:
        return uow.session.scalars(
            select(Award.public_id).join(Achievement).where(Achievement.slug == "csms")
        ).all()


def test_a_satisfied_open_cycle_offers_renew_now(client, initialized, cycle):
    earn_full(initialized)
    client.login(ADA)
    html = client.get(f"/renewal/{cycle.public_id}").get_data(as_text=True)
    assert "Renew now" in html
    assert f'action="/renewal/{cycle.public_id}/renew"' in html


def test_an_unsatisfied_cycle_shows_no_renew_button(client, initialized, cycle):
    earn(initialized, "library-1", START + timedelta(days=3))
    client.login(ADA)
    html = client.get(f"/renewal/{cycle.public_id}").get_data(as_text=True)
    assert "Renew now" not in html


def test_renew_now_issues_the_renewal_and_shows_the_next_cycle(client, initialized, cycle):
    earn_full(initialized)
    account = client.login(ADA)
    assert account.status_code == 302
    response = client.submit(
        f"/renewal/{cycle.public_id}/renew", {}, page=f"/renewal/{cycle.public_id}"
    )
    assert response.status_code == 302
    renewed = cycles.get_cycle(initialized, cycle.public_id)
    assert renewed.status == "renewed"
    assert response.headers["Location"] == f"/renewal/{renewed.next_cycle_id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is renewed; your next cycle runs until 01 January 2031" in html
    with initialized.uow() as uow:
        actors = uow.session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.action == "cycle.renew", AuditEntry.subject_id == cycle.public_id
            )
        ).all()
    assert len(actors) == 1
    assert actors[0].startswith("account:")  # the signed-in learner, not staff or the system
    assert renewal_awards(initialized) == [renewed.renewal_award_id]


def test_renew_now_on_an_unsatisfied_cycle_says_why_and_issues_nothing(client, initialized, cycle):
    earn(initialized, "library-1", START + timedelta(days=3))
    client.login(ADA)
    response = client.submit(
        f"/renewal/{cycle.public_id}/renew", {}, page=f"/renewal/{cycle.public_id}"
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Not renewed: not satisfied yet: 4.00 of 30 credits counted; 26.00 to go" in html
    assert renewal_awards(initialized) == []
    assert cycles.get_cycle(initialized, cycle.public_id).status == "active"


def test_renew_now_twice_is_refused_the_second_time(client, initialized, cycle):
    earn_full(initialized)
    client.login(ADA)
    page = f"/renewal/{cycle.public_id}"
    assert client.submit(f"{page}/renew", {}, page=page).status_code == 302
    again = client.submit(f"{page}/renew", {}, page=page)
    assert again.status_code == 409
    assert "this cycle is already renewed" in again.get_data(as_text=True)
    assert len(renewal_awards(initialized)) == 1


def test_another_learner_gets_404_and_nothing_is_issued(client, initialized, cycle, create_account):
    earn_full(initialized)
    create_account("sam@example.org")
    client.login("sam@example.org")
    response = client.submit(f"/renewal/{cycle.public_id}/renew", {}, page="/dashboard")
    assert response.status_code == 404
    assert renewal_awards(initialized) == []
    assert cycles.get_cycle(initialized, cycle.public_id).status == "active"


def test_renew_now_needs_the_csrf_token(client, initialized, cycle):
    earn_full(initialized)
    client.login(ADA)
    response = client.post(f"/renewal/{cycle.public_id}/renew", data={})
    assert response.status_code == 400
    assert renewal_awards(initialized) == []


def test_renew_now_needs_sign_in(client, initialized, cycle):
    response = client.submit(f"/renewal/{cycle.public_id}/renew", {}, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert renewal_awards(initialized) == []
