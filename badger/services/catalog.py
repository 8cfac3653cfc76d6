"""The issuer and its achievement catalogue (read models for pages, API, CLI)."""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from badger.domain.achievements import AchievementSpec, Alignment, parse_credits
from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.domain.recipients import normalize_email
from badger.domain.requirements import parse_rule
from badger.services import audit, uploads
from badger.services.context import Context
from badger.services.validation import validate
from badger.store.db import UnitOfWork
from badger.store.models import Achievement, CatalogState, Issuer
from badger.store.prepared import Prepared


@dataclass(frozen=True)
class IssuerView:
    public_id: str
    slug: str
    name: str
    url: str
    email: str
    description: str | None
    id_method: str


@dataclass(frozen=True)
class AchievementView:
    public_id: str
    slug: str
    name: str
    description: str
    achievement_type: str
    criteria_narrative: str
    credits_available: Decimal | None
    credit_category: str | None
    provider: str | None
    series: str | None
    tags: tuple[str, ...]
    image_uri: str | None
    version: int = 1  # issued awards carry the version they were issued from

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        if self.credits_available is not None:
            # JSON numbers for credits (FACTS §5.17); Decimal keeps exactness until here.
            data["credits_available"] = float(self.credits_available)
        return data


def _issuer_view(row: Issuer) -> IssuerView:
    return IssuerView(
        row.public_id, row.slug, row.name, row.url, row.email, row.description, row.id_method
    )


def _achievement_view(row: Achievement) -> AchievementView:
    return AchievementView(
        public_id=row.public_id,
        slug=row.slug,
        name=row.name,
        description=row.description,
        achievement_type=row.achievement_type,
        criteria_narrative=row.criteria_narrative,
        credits_available=row.credits_available,
        credit_category=row.credit_category,
        provider=row.provider,
        series=row.series,
        tags=tuple(row.tags or ()),
        image_uri=row.image_uri,
        version=row.version or 1,
    )


def get_issuer(ctx: Context, slug: str | None = None) -> IssuerView | None:
    """The issuer with this slug (default: the deployment's), or the first one."""
    slug = slug or ctx.settings.issuer_slug
    with ctx.uow() as uow:
        row = uow.session.scalar(select(Issuer).where(Issuer.slug == slug))
        if row is None:
            row = uow.session.scalar(select(Issuer).order_by(Issuer.id).limit(1))
        return _issuer_view(row) if row else None


def update_issuer(
    ctx: Context,
    *,
    name: str,
    url: str,
    email: str,
    description: str | None = None,
    actor: str,
    slug: str | None = None,
) -> IssuerView:
    """Edit the issuer profile: name, web site, contact address, description.

    The published profiles (OB 2.0 Profile, OB 3.0 Profile, the issuer page)
    follow at once; credentials already issued keep the profile as it was
    signed into them.  The slug and the identification method never change:
    they are part of every id badger has issued.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    if len(name) > 200:
        raise ValidationError("name", "at most 200 characters")
    url = (url or "").strip()
    if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url) or len(url) > 500:
        raise ValidationError("url", "must be an http(s) URL (at most 500 characters)")
    email = normalize_email(email or "")  # a ValidationError naming "email"
    description = (description or "").strip() or None
    if description is not None and len(description) > 5000:
        raise ValidationError("description", "at most 5,000 characters")
    slug = slug or ctx.settings.issuer_slug
    with ctx.uow() as uow:
        row = uow.session.scalar(select(Issuer).where(Issuer.slug == slug))
        if row is None:
            raise NotFound(f"no issuer {slug!r}")
        before = {"name": row.name, "url": row.url, "email": row.email}
        row.name, row.url, row.email, row.description = name, url, email, description
        definitions_changed(uow)
        audit.record(
            uow,
            actor=actor,
            action="issuer.update",
            subject_type="issuer",
            subject_id=row.public_id,
            now=ctx.now(),
            before=before,
            after={"name": name, "url": url, "email": email},
        )
        return _issuer_view(row)


def list_achievements(
    ctx: Context, issuer_slug: str | None = None, *, public_only: bool = True
) -> list[AchievementView]:
    with ctx.uow() as uow:
        stmt = select(Achievement).join(Issuer).order_by(Achievement.name)
        if issuer_slug:
            stmt = stmt.where(Issuer.slug == issuer_slug)
        if public_only:
            stmt = stmt.where(Achievement.is_public.is_(True))
        return [_achievement_view(r) for r in uow.session.scalars(stmt)]


_generation = itertools.count(1)
_current_generation = 0


def _bump_generation() -> None:
    # Tells caches in this process (the awarding engine's rule index) that
    # definitions changed, without a database round trip on their hot path.
    global _current_generation
    _current_generation = next(_generation)


def generation() -> int:
    return _current_generation


_CATALOG_ROW = 1
_VERSION = Prepared(select(CatalogState.version).where(CatalogState.id == _CATALOG_ROW))


def catalog_version(uow: UnitOfWork) -> int:
    """The definitions' version: changes whenever any achievement's definition does."""
    return uow.core(_VERSION).scalar() or 0


def definitions_changed(uow: UnitOfWork) -> None:
    """Tell every process's caches that definitions change with this transaction.

    Achievements and issuers: the awarding engine caches the rules and the
    rows an automatic award reads (``awarding.rule_index``).

    This process's at once (:func:`generation`); the others through
    :func:`catalog_version`, bumped once per transaction in the same
    transaction (a row that also serialises concurrent definition changes).
    """
    _bump_generation()
    if not uow.session.info.get("badger.catalog_bumped"):
        uow.increment(CatalogState.__table__, "id", _CATALOG_ROW, "version")
        uow.session.info["badger.catalog_bumped"] = True


def add_achievement(
    uow: UnitOfWork,
    *,
    issuer_slug: str,
    spec: AchievementSpec,
    actor: str,
    now: Any,
    check_references: bool = True,
) -> AchievementView:
    """Define an achievement inside the caller's transaction.

    Its rules may name only achievements the issuer has (``check_references``
    false: the caller checks once it has added all of a batch).
    """
    issuer = uow.session.scalar(select(Issuer).where(Issuer.slug == issuer_slug))
    if issuer is None:
        raise NotFound(f"no issuer {issuer_slug!r}")
    clash = uow.session.scalar(
        select(Achievement.id).where(
            Achievement.issuer_id == issuer.id, Achievement.slug == spec.slug
        )
    )
    if clash is not None:
        raise Conflict(f"achievement {spec.slug!r} already exists")
    row = Achievement(
        issuer=issuer,
        slug=spec.slug,
        name=spec.name,
        description=spec.description,
        criteria_narrative=spec.criteria_narrative,
        criteria_url=spec.criteria_url,
        image_uri=spec.image_uri,
        achievement_type=spec.achievement_type,
        tags=list(spec.tags),
        alignments=[asdict(a) for a in spec.alignments],
        credits_available=spec.credits_available,
        credit_category=spec.credit_category,
        provider=spec.provider,
        series=spec.series,
        validity_days=spec.validity_days,
        human_code=spec.human_code,
        field_of_study=spec.field_of_study,
        rules=spec.rules,
    )
    uow.session.add(row)
    uow.session.flush()
    if check_references:
        _check_references(uow, issuer.id, [row.slug])
    definitions_changed(uow)
    audit.record(
        uow,
        actor=actor,
        action="achievement.create",
        subject_type="achievement",
        subject_id=row.public_id,
        now=now,
        slug=spec.slug,
    )
    return _achievement_view(row)


def create_achievement(
    ctx: Context, *, issuer_slug: str, spec: AchievementSpec, actor: str = audit.SYSTEM
) -> AchievementView:
    with ctx.uow() as uow:
        return add_achievement(uow, issuer_slug=issuer_slug, spec=spec, actor=actor, now=ctx.now())


MAX_IMAGE_BYTES = 512 * 1024
IMAGE_TYPES = ("image/png", "image/svg+xml")


def badge_image_uri(image: bytes, filename: str = "badge") -> str:
    """A checked badge picture as a data URI: PNG or SVG only, size-limited, SVG sanitised.

    OB 2.0 verifiers accept only PNG and SVG badge images (FACTS §5.14), and an
    SVG is served to browsers, so scripts and external references are removed.
    """
    checked = uploads.check_file(
        image, filename=filename, declared_type=None, max_bytes=MAX_IMAGE_BYTES
    )
    if checked.media_type not in IMAGE_TYPES:
        raise ValidationError("image", "a badge image must be PNG or SVG")
    return f"data:{checked.media_type};base64," + base64.b64encode(checked.content).decode("ascii")


def _image_from_json(value: str) -> str:
    """``image_uri`` in definitions: an https URL, or a PNG/SVG data URI (checked)."""
    if value.startswith("https://"):
        return value
    match = re.match(r"^data:(image/png|image/svg\+xml);base64,([A-Za-z0-9+/=\s]+)$", value)
    if not match:
        raise ValidationError("image_uri", "give an https URL or a base64 PNG/SVG data URI")
    try:
        raw = base64.b64decode(match.group(2), validate=False)
    except (ValueError, binascii.Error):
        raise ValidationError("image_uri", "the data URI is not valid base64") from None
    try:
        return badge_image_uri(raw)
    except ValidationError as exc:
        raise ValidationError("image_uri", exc.reason) from None


def spec_from_json(data: Any) -> AchievementSpec:
    """An :class:`AchievementSpec` from API/CLI JSON, checked against ``schemas/achievement.json``."""
    validate("achievement", data)
    fields = dict(data)
    if fields.get("image_uri"):
        fields["image_uri"] = _image_from_json(fields["image_uri"])
    if "credits_available" in fields:
        fields["credits_available"] = parse_credits(fields["credits_available"])
    fields["tags"] = tuple(fields.get("tags", ()))
    fields["alignments"] = tuple(Alignment(**a) for a in fields.get("alignments", ()))
    return AchievementSpec(**fields)


def specs_from_json(data: Any) -> list[AchievementSpec]:
    """Definitions from a file's JSON: one object or a list of them (each checked
    as :func:`spec_from_json`; the first bad one is an error naming ``item N``)."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ValidationError("file", "holds no definitions (an empty list)")
    specs = []
    for i, item in enumerate(items):
        try:
            specs.append(spec_from_json(item))
        except ValidationError as exc:
            raise ValidationError(f"item {i}", exc.message) from None
    return specs


def create_achievements(
    ctx: Context, *, issuer_slug: str, specs: list[AchievementSpec], actor: str
) -> list[AchievementView]:
    """Define several achievements in one transaction: all or none."""
    lines = import_definitions(ctx, issuer_slug=issuer_slug, specs=specs, update=False, actor=actor)
    return [line.view for line in lines]


@dataclass(frozen=True)
class ImportLine:
    """What :func:`import_definitions` did with one definition."""

    outcome: str  # "defined", "updated" or "unchanged"
    view: AchievementView
    changed: tuple[str, ...] = ()


def import_definitions(
    ctx: Context,
    *,
    issuer_slug: str,
    specs: list[AchievementSpec],
    update: bool,
    actor: str,
) -> list[ImportLine]:
    """Define several achievements in one transaction: all or none.

    With ``update``, a definition whose slug the issuer has already changes
    that achievement (as :func:`update_achievement`: a new version, issued
    awards untouched), or is left alone when nothing in it differs; without,
    an existing slug is a :class:`Conflict`.  A definition without
    ``image_uri`` keeps the current picture.
    """
    first: dict[str, int] = {}
    for i, spec in enumerate(specs):
        if spec.slug in first:
            raise ValidationError(
                "slug", f"{spec.slug!r} is defined twice (items {first[spec.slug]} and {i})"
            )
        first[spec.slug] = i
    now = ctx.now()
    lines: list[ImportLine] = []
    with ctx.uow() as uow:
        existing = (
            {
                row.slug: row
                for row in uow.session.scalars(
                    select(Achievement)
                    .join(Issuer)
                    .where(Issuer.slug == issuer_slug, Achievement.slug.in_(list(first)))
                )
            }
            if update
            else {}
        )
        for spec in specs:
            row = existing.get(spec.slug)
            if row is None:
                view = add_achievement(
                    uow,
                    issuer_slug=issuer_slug,
                    spec=spec,
                    actor=actor,
                    now=now,
                    check_references=False,
                )
                lines.append(ImportLine("defined", view))
                continue
            changed = _change(
                uow, row, spec, keep_image=True, actor=actor, now=now, check_references=False
            )
            outcome = "updated" if changed else "unchanged"
            lines.append(ImportLine(outcome, _achievement_view(row), tuple(changed)))
        issuer_id = uow.session.scalar(select(Issuer.id).where(Issuer.slug == issuer_slug))
        _check_references(uow, issuer_id, [s.slug for s in specs])
    return lines


def _check_references(uow: UnitOfWork, issuer_id: int | None, slugs: list[str]) -> None:
    """Refuse rules that can never be met because they name an achievement the
    issuer does not have.  ``slugs``: the achievements just defined or changed
    (flushed)."""
    in_issuer = Achievement.issuer_id == issuer_id
    rules = uow.session.execute(
        select(Achievement.slug, Achievement.rules).where(in_issuer, Achievement.slug.in_(slugs))
    ).all()
    named = {
        slug: parse_rule(data).dependencies()  # itself: refused by the spec
        for slug, data in rules
        if data
    }
    refs = {ref for needs in named.values() for ref in needs.achievements | needs.evidence_for}
    if not refs:
        return
    defined = set(
        uow.session.scalars(select(Achievement.slug).where(in_issuer, Achievement.slug.in_(refs)))
    )
    for slug in slugs:
        needs = named.get(slug)
        if needs is None:
            continue
        missing = sorted((needs.achievements | needs.evidence_for) - defined)
        if missing:
            names = ", ".join(repr(m) for m in missing)
            raise ValidationError(
                "rules", f"{slug!r} names no achievement {names} (rules name them by slug)"
            )


def export_definitions(ctx: Context, issuer_slug: str | None = None) -> list[dict[str, Any]]:
    """Every achievement as ``schemas/achievement.json`` input, its picture included
    (round-trips through import, into this instance or another)."""
    slug = issuer_slug or ctx.settings.issuer_slug
    with ctx.uow() as uow:
        rows = uow.session.scalars(
            select(Achievement).join(Issuer).where(Issuer.slug == slug).order_by(Achievement.id)
        )
        return [
            {**_definition(row), **({"image_uri": row.image_uri} if row.image_uri else {})}
            for row in rows
        ]


def _definition(row: Achievement) -> dict[str, Any]:
    """One achievement as ``schemas/achievement.json`` input."""
    item: dict[str, Any] = {
        "slug": row.slug,
        "name": row.name,
        "description": row.description,
        "criteria_narrative": row.criteria_narrative,
        "criteria_url": row.criteria_url,
        "achievement_type": row.achievement_type,
        "tags": list(row.tags or []),
        "alignments": [{k: v for k, v in a.items() if v is not None} for a in row.alignments or []],
        "credits_available": float(row.credits_available)
        if row.credits_available is not None
        else None,
        "credit_category": row.credit_category,
        "provider": row.provider,
        "series": row.series,
        "validity_days": row.validity_days,
        "human_code": row.human_code,
        "field_of_study": row.field_of_study,
        "rules": row.rules,
    }
    return {k: v for k, v in item.items() if v not in (None, [], "")}


def _find(uow: UnitOfWork, ref: str, issuer_slug: str) -> Achievement:
    stmt = select(Achievement).join(Issuer)
    row = uow.session.scalar(stmt.where(Achievement.public_id == ref))
    if row is None:
        row = uow.session.scalar(stmt.where(Achievement.slug == ref, Issuer.slug == issuer_slug))
    if row is None:
        raise NotFound(f"no achievement {ref!r}")
    return row


def achievement_names(session: Session, refs: set[tuple[int, str]]) -> dict[int, dict[str, str]]:
    """Issuer id → {slug: name} for the (issuer id, slug) pairs in ``refs``."""
    names: dict[int, dict[str, str]] = {}
    if refs:
        rows = session.execute(
            select(Achievement.issuer_id, Achievement.slug, Achievement.name).where(
                Achievement.slug.in_({slug for _, slug in refs}),
                Achievement.issuer_id.in_({issuer_id for issuer_id, _ in refs}),
            )
        )
        for issuer_id, slug, name in rows:
            names.setdefault(issuer_id, {})[slug] = name
    return names


def slug_taken(ctx: Context, slug: str, issuer_slug: str | None = None) -> bool:
    """Whether the issuer already has an achievement with this slug (for live validation)."""
    with ctx.uow() as uow:
        return (
            uow.session.scalar(
                select(Achievement.id)
                .join(Issuer)
                .where(
                    Achievement.slug == slug,
                    Issuer.slug == (issuer_slug or ctx.settings.issuer_slug),
                )
            )
            is not None
        )


@dataclass(frozen=True)
class Definition:
    """An achievement for the edit form: its JSON definition plus what JSON leaves out."""

    public_id: str
    data: dict[str, Any]
    image_uri: str | None
    version: int


def get_definition(ctx: Context, ref: str) -> Definition:
    """An achievement (public id or slug) as editable ``schemas/achievement.json`` input."""
    with ctx.uow() as uow:
        row = _find(uow, ref, ctx.settings.issuer_slug)
        return Definition(row.public_id, _definition(row), row.image_uri, row.version)


_EDITABLE = (
    "name",
    "description",
    "criteria_narrative",
    "criteria_url",
    "achievement_type",
    "credits_available",
    "credit_category",
    "provider",
    "series",
    "validity_days",
    "human_code",
    "field_of_study",
    "rules",
)


def update_achievement(
    ctx: Context,
    public_id: str,
    *,
    spec: AchievementSpec,
    keep_image: bool = True,
    actor: str,
) -> AchievementView:
    """Change a definition; only awards issued from now on carry the change.

    Issued credentials are immutable (their signed bytes embed the achievement
    as it was), so an edit never touches them.  The slug is the achievement's
    name in rules, CSV files and URLs and cannot change.  ``spec.image_uri``
    of ``None`` keeps the current image when ``keep_image`` is true and
    removes it otherwise.
    """
    now = ctx.now()
    with ctx.uow() as uow:
        row = _find(uow, public_id, ctx.settings.issuer_slug)
        if spec.slug != row.slug:
            raise ValidationError("slug", "cannot be changed (rules and files refer to it)")
        _change(uow, row, spec, keep_image=keep_image, actor=actor, now=now, audit_unchanged=True)
        return _achievement_view(row)


def _change(
    uow: UnitOfWork,
    row: Achievement,
    spec: AchievementSpec,
    *,
    keep_image: bool,
    actor: str,
    now: Any,
    audit_unchanged: bool = False,
    check_references: bool = True,
) -> list[str]:
    """Apply ``spec`` to ``row`` (a new version when anything differs); the fields changed."""
    before = _definition(row)
    for name in _EDITABLE:
        setattr(row, name, getattr(spec, name))
    row.tags = list(spec.tags)
    row.alignments = [asdict(a) for a in spec.alignments]
    image_changed = False
    if spec.image_uri is not None:
        image_changed = spec.image_uri != row.image_uri
        row.image_uri = spec.image_uri
    elif not keep_image and row.image_uri is not None:
        row.image_uri, image_changed = None, True
    after = _definition(row)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if image_changed:
        changed.append("image")
    if changed:
        row.version += 1
        row.updated_at = now
    elif not audit_unchanged:
        return changed
    uow.session.flush()
    if check_references and "rules" in changed:
        _check_references(uow, row.issuer_id, [row.slug])
    definitions_changed(uow)
    audit.record(
        uow,
        actor=actor,
        action="achievement.update",
        subject_type="achievement",
        subject_id=row.public_id,
        now=now,
        slug=row.slug,
        changed=changed,
        version=row.version,
    )
    return changed
