"""Flask-WTF forms of the admin console, and their translation into service input.

Every form is CSRF-protected.  Field errors from the services arrive as
:class:`~badger.domain.errors.ValidationError` with JSON paths such as
``alignments[0].target_url``; :func:`attach_errors` puts each message next
to the form field the path starts with, so the page (and the live-validation
endpoint) shows it beside the input the admin has to fix.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from badger.domain.achievements import ACHIEVEMENT_TYPES, AchievementSpec, parse_credits
from badger.domain.errors import ValidationError
from badger.services import catalog, review
from badger.services.validation import schema_errors

FORM_LEVEL = "_form"


def attach_errors(
    form: FlaskForm, fields: Mapping[str, list[str]], aliases: Mapping[str, str]
) -> None:
    """Put service errors (by JSON path) on the form fields they belong to."""
    for path, messages in fields.items():
        head = re.split(r"[.\[]", path, maxsplit=1)[0]
        name = aliases.get(head, head)
        target = getattr(form, name, None)
        where = target if isinstance(target, Field) else None
        for message in messages:
            text = message if path == name else f"{path}: {message}"
            if where is None:
                form.form_errors.append(text)
            else:
                where.errors = [*where.errors, text]


def errors_of(form: FlaskForm) -> dict[str, list[str]]:
    """Every message on the form by field name (form-level ones under ``_form``)."""
    out = {name: list(errs) for name, errs in form.errors.items() if name and errs}
    if form.form_errors:
        out[FORM_LEVEL] = list(form.form_errors)
    return out


def _json_field(text: str | None, name: str, errors: dict[str, list[str]]) -> Any:
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        errors.setdefault(name, []).append(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        )
        return None


def raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        field, messages = next(iter(errors.items()))
        exc = ValidationError(field, messages[0])
        exc.fields = errors
        raise exc


# ---------------------------------------------------------------- keys


class IssuerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    url = StringField(
        "Web site",
        validators=[DataRequired(), Length(max=500)],
        description="The organisation's home page (http or https).",
    )
    email = StringField(
        "Contact e-mail",
        validators=[DataRequired(), Length(max=254)],
        description="Published in the issuer profile; OB 2.0 verifiers require it.",
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])


class RotateKeyForm(FlaskForm):
    understood = BooleanField(
        "I understand that new credentials will be signed with a new key; the old key stays "
        "published so credentials already issued keep verifying.",
        validators=[InputRequired(message="tick the box to confirm the rotation")],
    )


class ConfirmForm(FlaskForm):
    """A CSRF-protected button."""


# ---------------------------------------------------------------- achievements

TYPE_CHOICES = sorted(ACHIEVEMENT_TYPES)


class AchievementForm(FlaskForm):
    slug = StringField(
        "Slug",
        validators=[Optional()],
        description="Short stable name used in URLs and rules: lower-case letters, digits, "
        "hyphens. It cannot be changed later.",
    )
    name = StringField("Name", description="Shown on the badge.")
    description = TextAreaField("Description", description="What this achievement is.")
    criteria_narrative = TextAreaField(
        "Criteria", description="What a learner must do to earn it (Markdown)."
    )
    criteria_url = StringField("Criteria page URL", description="Optional, http(s).")
    achievement_type = StringField(
        "Achievement type",
        default="MicroCredential",
        description="An Open Badges 3.0 type (MicroCredential, Badge, Certification, …) "
        "or ext:Name.",
    )
    tags = StringField("Tags", description="Comma-separated, e.g. ethics, online.")
    alignments = TextAreaField(
        "Alignments",
        description="One per line: target name | target URL | code | framework "
        "(code and framework optional).",
    )
    credits_available = StringField(
        "Credits (CEU)", description="Continuing-education units, e.g. 1.5. Optional."
    )
    credit_category = StringField(
        "Credit category", description="Needed for renewal caps, e.g. ethics. Needs credits."
    )
    provider = StringField("Provider", description="Who delivers the activity. Optional.")
    series = StringField(
        "Series",
        description="A recurring series this belongs to (series caps), e.g. monthly-webinar.",
    )
    validity_days = StringField(
        "Valid for (days)", description="Leave empty for badges that do not expire."
    )
    human_code = StringField("Course code", description="Optional, e.g. CSMS-101.")
    field_of_study = StringField("Field of study", description="Optional.")
    evidence_required = BooleanField(
        "Awarded when a reviewer approves evidence a learner submits for it",
        description='Sets the rule {"evidence_approved": slug} (added to any rules below).',
    )
    rules = TextAreaField(
        "Requirement rules (JSON)",
        description="Optional: when met, the badge is awarded automatically, e.g. "
        '{"all_of": [{"earned": "intro"}, {"event": "quiz-passed"}]}.',
    )
    image = FileField("Badge image", description="PNG or SVG, at most 512 KiB. Optional.")
    remove_image = BooleanField("Remove the current image")

    # Schema paths that are not the form field of the same name.
    ALIASES: Mapping[str, str] = {"image_uri": "image"}

    def fill(self, definition: Mapping[str, Any]) -> None:
        """Pre-fill from ``catalog.get_definition`` (GET of the edit page)."""
        for key in (
            "slug",
            "name",
            "description",
            "criteria_narrative",
            "criteria_url",
            "achievement_type",
            "credit_category",
            "provider",
            "series",
            "human_code",
            "field_of_study",
        ):
            getattr(self, key).data = definition.get(key) or ""
        self.tags.data = ", ".join(definition.get("tags", []))
        self.alignments.data = "\n".join(
            " | ".join(
                a.get(k, "")
                for k in ("target_name", "target_url", "target_code", "target_framework")
            ).rstrip(" |")
            for a in definition.get("alignments", [])
        )
        credits = definition.get("credits_available")
        self.credits_available.data = "" if credits is None else f"{credits:g}"
        days = definition.get("validity_days")
        self.validity_days.data = "" if days is None else str(days)
        rules = definition.get("rules")
        slug = definition.get("slug")
        if rules == {"evidence_approved": slug}:
            self.evidence_required.data = True
            rules = None
        self.rules.data = json.dumps(rules, indent=2) if rules else ""

    def to_spec(self, *, slug: str | None = None) -> tuple[AchievementSpec, str | None]:
        """The checked definition, and what to do with the image.

        Returns the spec and the image as a checked data URI (``None`` for "no
        new image").  Raises :class:`ValidationError` with every problem by
        form field.  ``slug`` fixes the slug when editing.
        """
        errors: dict[str, list[str]] = {}
        data: dict[str, Any] = {}
        data["slug"] = (slug or self.slug.data or "").strip()
        for key in ("name", "description", "criteria_narrative"):
            data[key] = (getattr(self, key).data or "").strip()
        for key in (
            "criteria_url",
            "achievement_type",
            "credit_category",
            "provider",
            "series",
            "human_code",
            "field_of_study",
        ):
            value = (getattr(self, key).data or "").strip()
            if value:
                data[key] = value
        tags = [t.strip() for t in (self.tags.data or "").split(",") if t.strip()]
        if tags:
            data["tags"] = list(dict.fromkeys(tags))
        alignments = []
        for number, line in enumerate((self.alignments.data or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 2 or not parts[0] or not parts[1]:
                errors.setdefault("alignments", []).append(
                    f"line {number}: give at least a name and a URL separated by |"
                )
                continue
            item = {"target_name": parts[0], "target_url": parts[1]}
            for key, value in zip(("target_code", "target_framework"), parts[2:4], strict=False):
                if value:
                    item[key] = value
            alignments.append(item)
        if alignments:
            data["alignments"] = alignments
        credits = (self.credits_available.data or "").strip()
        if credits:
            try:
                data["credits_available"] = json.loads(credits)
                if not isinstance(data["credits_available"], int | float) or isinstance(
                    data["credits_available"], bool
                ):
                    raise ValueError
            except ValueError:
                errors.setdefault("credits_available", []).append(f"{credits!r} is not a number")
                data.pop("credits_available", None)
        days = (self.validity_days.data or "").strip()
        if days:
            if days.isdigit():
                data["validity_days"] = int(days)
            else:
                errors.setdefault("validity_days", []).append("a whole number of days")
        rules = _json_field(self.rules.data, "rules", errors)
        if self.evidence_required.data:
            own = {"evidence_approved": data["slug"]}
            rules = own if rules is None else {"all_of": [rules, own]}
        if rules is not None:
            data["rules"] = rules
        for path, messages in schema_errors("achievement", data).items():
            errors.setdefault(path, []).extend(_friendly(path, m) for m in messages)
        image_uri = None
        upload = self.image.data
        if upload is not None and getattr(upload, "filename", ""):
            try:
                image_uri = catalog.badge_image_uri(upload.read(), upload.filename)
            except ValidationError as exc:
                errors.setdefault("image", []).append(exc.reason)
        raise_if(errors)
        spec = catalog.spec_from_json(data)
        if image_uri is not None:
            spec = dataclasses.replace(spec, image_uri=image_uri)
        return spec, image_uri


# JSON Schema says "'X' does not match '^[a-z0-9]…$'"; people need the rule in words.
_PATTERN_HINTS = {
    "slug": "use 1-80 lower-case letters, digits and inner hyphens, e.g. ethics-101",
    "credit_category": "use lower-case letters, digits and hyphens, e.g. ethics",
    "series": "use lower-case letters, digits and hyphens, e.g. monthly-webinar",
}


def _friendly(path: str, message: str) -> str:
    hint = _PATTERN_HINTS.get(path)
    return hint if hint and "does not match" in message else message


class RulesDryRunForm(FlaskForm):
    rules = TextAreaField(
        "New rules (JSON)",
        validators=[DataRequired(message="paste the rules to try")],
        description="Nothing is saved: the page lists who would gain or lose the badge.",
    )

    def parsed(self) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        data = _json_field(self.rules.data, "rules", errors)
        if data is not None:
            for path, messages in schema_errors("rules", data).items():
                name = "rules" if path == "(document)" else f"rules.{path}"
                errors.setdefault(name, []).extend(messages)
        raise_if(errors)
        if not isinstance(data, dict):
            raise ValidationError("rules", "paste a JSON object")
        return data


# ---------------------------------------------------------------- review


class DecisionForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=[
            SelectChoice("approve", "Approve"),
            SelectChoice("return", "Return for revision"),
            SelectChoice("reject", "Reject"),
        ],
        validators=[InputRequired(message="choose a decision")],
    )
    comment = TextAreaField(
        "Comment to the learner",
        validators=[Length(max=10_000)],
        description="Required to reject or return; the learner sees it.",
    )
    # Catalogue proposals only: how the approved proposal enters the catalogue.
    slug = StringField(
        "Catalogue slug",
        validators=[Optional(), Length(max=80)],
        description="Proposals: the new achievement's slug (default: from the title).",
    )
    provider = StringField(
        "Provider", validators=[Optional(), Length(max=200)], description="Proposals: optional."
    )
    credits = StringField(
        "Credits (CEU)", validators=[Optional()], description="Proposals: what it is worth."
    )
    category = StringField(
        "Credit category", validators=[Optional(), Length(max=80)], description="Proposals."
    )

    def catalogue_entry(self) -> review.CatalogueEntry:
        amount = None
        text = (self.credits.data or "").strip()
        if text:
            try:
                amount = parse_credits(text, "credits")
            except ValidationError:
                raise ValidationError("credits", f"{text!r} is not a number of credits") from None
        return review.CatalogueEntry(
            slug=(self.slug.data or "").strip() or None,
            provider=(self.provider.data or "").strip() or None,
            credits=amount,
            category=(self.category.data or "").strip() or None,
        )


# ---------------------------------------------------------------- awards


class ManualAwardForm(FlaskForm):
    achievement = SelectField("Achievement", validators=[InputRequired()], choices=[])
    recipient = StringField(
        "Recipient",
        validators=[DataRequired(message="give an email address or a DID"), Length(max=500)],
        description="Email address or DID.",
    )
    recipient_name = StringField("Recipient's name", validators=[Optional(), Length(max=200)])
    evidence = TextAreaField("Evidence URLs", description="One http(s) URL per line. Optional.")
    narrative = TextAreaField(
        "Narrative", validators=[Length(max=10_000)], description="Why it was awarded. Optional."
    )


class DefinitionsImportForm(FlaskForm):
    file = FileField(
        "Definitions file (JSON)",
        description="One definition or a list, as Export gives them (schemas/achievement.json).",
    )
    update = BooleanField(
        "Also change the achievements that exist (a new version each; issued badges keep theirs)"
    )


class BulkUploadForm(FlaskForm):
    file = FileField(
        "CSV file",
        description="Columns: recipient, achievement, name, evidence, narrative, issued_on.",
    )
    achievement = SelectField(
        "Achievement for every row",
        choices=[],
        validators=[Optional()],
        description="Used where the file has no achievement column or the cell is empty.",
    )
    skip_invalid = BooleanField("Skip invalid rows and issue the others")


class AwardSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    achievement = StringField("Achievement (slug)", validators=[Optional(), Length(max=80)])
    recipient = StringField("Recipient (email or DID)", validators=[Optional(), Length(max=500)])


class StatusChangeForm(FlaskForm):
    action = HiddenField()
    reason = TextAreaField(
        "Reason",
        validators=[Length(max=1000)],
        description="Published with the status change.",
    )
    understood = BooleanField(
        "I understand verifiers will see this change",
        validators=[InputRequired(message="tick the box to confirm")],
    )


# ---------------------------------------------------------------- renewal policies


class PolicyForm(FlaskForm):
    policy = TextAreaField(
        "Renewal policy (JSON)",
        validators=[DataRequired(message="paste a policy")],
        description="schemas/renewal-policy.json: key, version, name, required_total, "
        "categories, caps …",
    )
    activities = TextAreaField(
        "Activities to simulate (JSON)",
        description="schemas/ledger-activities.json: a cycle and its activities. Leave empty "
        "to only check the policy.",
    )
    as_of = StringField(
        "As of",
        validators=[Optional()],
        description="Optional ISO date-time, e.g. 2026-01-01T00:00:00Z.",
    )

    save = SubmitField("Save as a new policy version")

    def documents(self) -> tuple[Any, Any]:
        errors: dict[str, list[str]] = {}
        policy = _json_field(self.policy.data, "policy", errors)
        activities = _json_field(self.activities.data, "activities", errors)
        raise_if(errors)
        return policy, activities


def prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    """The same problems with every path under ``prefix`` (policy.…, activities.…)."""
    fields = {
        prefix if path == "(document)" else f"{prefix}.{path}": msgs
        for path, msgs in exc.fields.items()
    }
    first = next(iter(fields))
    out = ValidationError(first, fields[first][0])
    out.fields = fields
    return out


# ---------------------------------------------------------------- certification cycles


class RequestDecisionForm(FlaskForm):
    """An extension / hiatus / reactivation request: approve or reject."""

    decision = RadioField(
        "Decision",
        choices=[SelectChoice("approve", "Approve"), SelectChoice("reject", "Reject")],
        validators=[InputRequired(message="choose a decision")],
    )
    comment = TextAreaField(
        "Comment to the learner",
        validators=[Length(max=2000)],
        description="Required to reject.",
    )
    days = StringField(
        "Days granted",
        validators=[Optional()],
        description="Extensions only: leave empty to grant the days asked for.",
    )

    def granted_days(self) -> int | None:
        text = (self.days.data or "").strip()
        if not text:
            return None
        if not text.isdigit():
            raise ValidationError("days", "a whole number of days")
        return int(text)


class RenewalReviewForm(FlaskForm):
    """A renewal whose counted badge was revoked: reinstate or revoke the renewal."""

    decision = RadioField(
        "Decision",
        choices=[
            SelectChoice("reinstate", "Reinstate the renewal credential"),
            SelectChoice("revoke", "Revoke the renewal credential"),
        ],
        validators=[InputRequired(message="choose a decision")],
    )
    comment = TextAreaField(
        "Comment", validators=[Length(max=2000)], description="Required to revoke; published."
    )


class ExtensionForm(FlaskForm):
    """Staff move a cycle's deadline directly."""

    days = StringField("Days", description="How many days to add to the deadline.")
    reason = TextAreaField(
        "Reason", validators=[Length(max=2000)], description="Sent to the learner and audited."
    )

    def whole_days(self) -> int:
        text = (self.days.data or "").strip()
        if not text.isdigit():
            raise ValidationError("days", "a whole number of days")
        return int(text)


class HiatusForm(FlaskForm):
    """Staff put a cycle on hiatus (clock paused, certification suspended)."""

    reason = TextAreaField(
        "Reason for the hiatus", validators=[Length(max=2000)], description="Audited."
    )
