"""Sharing a badge: LinkedIn "Add to profile", a QR code, an embeddable snippet, visibility.

What "hide from public view" means (decided here, shown on the owner's page):

* the human badge page ``/credentials/<award>`` answers 404 to everyone
  (the owner reaches theirs through ``/badges/<award>``);
* every signed rendering stays served (``/credentials/<award>`` for JSON and
  JWT clients, ``/credentials/<award>/<format>.<ext>``, the hosted OB 2.0
  assertion): a verifier the learner gave the badge to must still be able to
  check it, and the hosted assertion *is* the OB 2.0 verification method.
  Those URLs carry a random UUID, so nobody finds them without being given
  the badge;
* verification of the credential is unaffected: hiding is not revocation.
"""

from __future__ import annotations

import functools
import html
import io
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from badger.domain.errors import NotFound
from badger.services import audit, awards, publish
from badger.services.accounts import AccountView, actor_of
from badger.services.context import Context
from badger.services.dashboard import display_status
from badger.store.models import Account, Award

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


@dataclass(frozen=True)
class SharePage:
    page: publish.CredentialPage
    # active | revoked | suspended | expired
    display_status: str
    linkedin_url: str
    qr_svg: str
    embed_html: str
    image_url: str
    # Only on the owner's page: the public one does not say how a badge was earned.
    basis: awards.EarnedBasis | None = None


def linkedin_url(
    *,
    name: str,
    organization: str,
    issued_on: datetime,
    valid_until: datetime | None,
    cert_url: str,
    cert_id: str,
) -> str:
    """LinkedIn's "Add to profile" link for a certification, every field prefilled."""
    params: list[tuple[str, str]] = [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", name),
        ("organizationName", organization),
        ("issueYear", str(issued_on.year)),
        ("issueMonth", str(issued_on.month)),
    ]
    if valid_until is not None:
        params += [
            ("expirationYear", str(valid_until.year)),
            ("expirationMonth", str(valid_until.month)),
        ]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params)}"


@functools.lru_cache(maxsize=1024)  # ~15 KiB each
def qr_svg(url: str, *, title: str = "QR code") -> str:
    """An SVG QR code of ``url`` (no XML declaration: it is embedded in a page).

    Memoised: drawing one costs ~10 ms, most of a badge page's time, and a
    credential's URL never changes.
    """
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        title=title,
        scale=4,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
    )
    svg = out.getvalue().decode("utf-8")
    # An image to assistive technology, named by its title.
    label = html.escape(title, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def embed_html(*, page_url: str, image_url: str, name: str, issuer: str) -> str:
    """A small HTML snippet to paste into another site; every value escaped."""
    url, img = html.escape(page_url, quote=True), html.escape(image_url, quote=True)
    label = html.escape(f"{name} · {issuer}", quote=True)
    return (
        f'<a href="{url}" title="{label}">'
        f'<img src="{img}" alt="{label}" width="120" height="120"></a>'
    )


def _owned_award(session: Session, account_public_id: str, award_id: str) -> Award:
    row = session.scalar(
        select(Award)
        .join(Account, Account.learner_id == Award.learner_id)
        .where(Award.public_id == award_id, Account.public_id == account_public_id)
    )
    if row is None:
        # Someone else's badge or none at all: the same answer.
        raise NotFound(f"no badge {award_id!r} in your account")
    return row


def share_page(ctx: Context, account_public_id: str, award_id: str) -> SharePage:
    """The owner's view of one badge, with everything needed to share it and how it was earned."""
    with ctx.uow() as uow:
        row = _owned_award(uow.session, account_public_id, award_id)
        basis = awards.earned_basis(uow.session, row)
    return replace(share_tools(ctx, publish.credential_page(ctx, award_id)), basis=basis)


def share_tools(ctx: Context, page: publish.CredentialPage) -> SharePage:
    """Links, QR code and snippet for a badge page (public or the owner's)."""
    image_url = f"{page.url}/ob3-png.png"
    return SharePage(
        page=page,
        display_status=display_status(page.status, page.valid_until, ctx.now()),
        linkedin_url=linkedin_url(
            name=page.achievement_name,
            organization=page.issuer_name,
            issued_on=page.issued_on,
            valid_until=page.valid_until,
            cert_url=page.url,
            cert_id=f"urn:uuid:{page.award_id}",
        ),
        qr_svg=qr_svg(page.url, title=f"QR code for the badge page of {page.achievement_name}"),
        embed_html=embed_html(
            page_url=page.url,
            image_url=image_url,
            name=page.achievement_name,
            issuer=page.issuer_name,
        ),
        image_url=image_url,
    )


def is_owner(ctx: Context, account_public_id: str, award_id: str) -> bool:
    """Whether this account's learner holds the award."""
    with ctx.uow() as uow:
        try:
            _owned_award(uow.session, account_public_id, award_id)
        except NotFound:
            return False
        return True


def set_visibility(ctx: Context, account: AccountView, award_id: str, *, public: bool) -> None:
    """Show or hide the public badge page (the signed files stay served; see above)."""
    now = ctx.now()
    with ctx.uow() as uow:
        row = _owned_award(uow.session, account.public_id, award_id)
        if row.is_public == public:
            return
        row.is_public = public
        audit.record(
            uow,
            actor=actor_of(account),
            action="award.show" if public else "award.hide",
            subject_type="award",
            subject_id=row.public_id,
            now=now,
        )
