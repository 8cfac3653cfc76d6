"""The admin and reviewer console.

Views parse a form, call one service and render (STYLE habit 4).  Field
errors from the services come back as ``ValidationError`` with JSON paths and
are shown beside the input they belong to (``admin_forms.attach_errors``);
a page with bad input answers 400 and re-renders the form, never a 500.
Every route needs the admin role, except the review queue (reviewers).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from badger.domain.accounts import Role
from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.services import (
    audit_views,
    awarding,
    awards,
    bulk,
    catalog,
    cycles,
    issue,
    keys,
    ledger,
    reports,
    review,
    status,
    uploads,
)
from badger.services.accounts import actor_of
from badger.web.admin_forms import (
    TYPE_CHOICES,
    AchievementForm,
    AwardSearchForm,
    BulkUploadForm,
    ConfirmForm,
    DecisionForm,
    DefinitionsImportForm,
    ExtensionForm,
    HiatusForm,
    IssuerForm,
    ManualAwardForm,
    PolicyForm,
    RenewalReviewForm,
    RequestDecisionForm,
    RotateKeyForm,
    RulesDryRunForm,
    StatusChangeForm,
    attach_errors,
    errors_of,
    prefixed,
)
from badger.web.auth import role_required
from badger.web.context import get_context

bp = Blueprint("admin", __name__, url_prefix="/admin")

NO_ALIASES: dict[str, str] = {}
# Recipient parsing names the kind it tried ("email"); the forms call it "recipient".
RECIPIENT_ALIASES = {"email": "recipient", "name": "recipient_name"}


@bp.app_template_filter("ceu")
def _ceu(value: Decimal | None) -> str:
    return "" if value is None else reports.plain_number(value)


def _actor() -> str:
    return actor_of(current_user.view)


def _invalid(form: FlaskForm, exc: ValidationError, aliases: dict[str, str] = NO_ALIASES) -> None:
    attach_errors(form, exc.fields, aliases)


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> str:
    ctx = get_context()
    issuer = catalog.get_issuer(ctx)
    return render_template(
        "admin/index.html",
        issuer=issuer,
        achievements=catalog.list_achievements(ctx, public_only=False),
        audit=audit_views.recent_entries(ctx, limit=25),
        waiting_reviews=len(review.queue(ctx, limit=review.MAX_QUEUE)),
        waiting_requests=cycles.pending_count(ctx),
    )


# ---------------------------------------------------------------- issuer and keys


@bp.get("/keys")
@role_required(Role.ADMIN)
def list_keys() -> str:
    ctx = get_context()
    return render_template(
        "admin/keys.html",
        issuer=catalog.get_issuer(ctx),
        keys=keys.list_keys(ctx),
        algorithms=keys.ALGORITHMS,
    )


@bp.route("/issuer", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_issuer() -> Any:
    ctx = get_context()
    issuer = catalog.get_issuer(ctx)
    if issuer is None:
        abort(409, description="no issuer configured (run `badger init`)")
    form = IssuerForm(obj=issuer)
    if form.validate_on_submit():
        try:
            catalog.update_issuer(
                ctx,
                slug=issuer.slug,
                name=form.name.data or "",
                url=form.url.data or "",
                email=form.email.data or "",
                description=form.description.data,
                actor=_actor(),
            )
        except ValidationError as exc:
            attach_errors(form, exc.fields, {})
        else:
            flash("The issuer profile was saved; new credentials carry it.")
            return redirect(url_for("admin.list_keys"))
    return render_template("admin/issuer_form.html", form=form, issuer=issuer), (
        400 if form.errors or form.form_errors else 200
    )


@bp.route("/keys/<alg>/rotate", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def rotate_key(alg: str) -> Any:
    if alg not in keys.ALGORITHMS:
        abort(404, description=f"no key algorithm {alg!r}")
    form = RotateKeyForm()
    if form.validate_on_submit():
        new = keys.rotate_key(get_context(), alg, actor=_actor())
        flash(f"The {alg} key was rotated; new credentials are signed with {new.kid}.")
        return redirect(url_for("admin.list_keys"))
    return render_template("admin/rotate_key.html", form=form, alg=alg), (
        400 if form.errors else 200
    )


# ---------------------------------------------------------------- achievements


@bp.get("/achievements")
@role_required(Role.ADMIN)
def list_achievements() -> str:
    return _achievements_page(DefinitionsImportForm(formdata=None))


def _achievements_page(form: DefinitionsImportForm) -> str:
    return render_template(
        "admin/achievements.html",
        achievements=catalog.list_achievements(get_context(), public_only=False),
        import_form=form,
    )


@bp.get("/achievements/export.json")
@role_required(Role.ADMIN)
def export_achievements() -> Response:
    """Every definition, pictures included, as a file to edit and import again."""
    body = json.dumps(catalog.export_definitions(get_context()), indent=2, ensure_ascii=False)
    response = Response(body + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="achievements.json"'
    return response


@bp.post("/achievements/import")
@role_required(Role.ADMIN)
def import_achievements() -> Any:
    """Define (and with ``update`` change) achievements from a JSON file: all or nothing."""
    form = DefinitionsImportForm()
    upload = form.file.data
    if not form.validate_on_submit() or upload is None or not upload.filename:
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [*form.file.errors, "choose a JSON file"]
        return _achievements_page(form), 400
    ctx = get_context()
    try:
        try:
            data = json.loads(upload.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValidationError("file", f"is not JSON ({exc})") from None
        lines = catalog.import_definitions(
            ctx,
            issuer_slug=ctx.settings.issuer_slug,
            specs=catalog.specs_from_json(data),
            update=bool(form.update.data),
            actor=_actor(),
        )
    except ValidationError as exc:
        form.file.errors = [*form.file.errors, exc.message]
        return _achievements_page(form), 400
    except Conflict as exc:
        form.file.errors = [
            *form.file.errors,
            f"{exc.message}: nothing imported (tick the box to change existing ones)",
        ]
        return _achievements_page(form), 409
    counts = {o: sum(line.outcome == o for line in lines) for o in ("defined", "updated")}
    unchanged = len(lines) - counts["defined"] - counts["updated"]
    flash(
        f"Imported {len(lines)} definition{'s' if len(lines) != 1 else ''}: "
        f"{counts['defined']} new, {counts['updated']} changed, {unchanged} unchanged."
    )
    return redirect(url_for("admin.list_achievements"))


@bp.route("/achievements/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_achievement() -> Any:
    form = AchievementForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _achievement_page(form, None), 400
        ctx = get_context()
        try:
            spec, _ = form.to_spec()
            created = catalog.create_achievement(
                ctx, issuer_slug=_issuer_slug(), spec=spec, actor=_actor()
            )
        except ValidationError as exc:
            _invalid(form, exc, dict(form.ALIASES))
            return _achievement_page(form, None), 400
        except Conflict as exc:
            form.slug.errors = [exc.message]
            return _achievement_page(form, None), 409
        flash(f"Achievement “{created.name}” was created.")
        return redirect(url_for("admin.edit_achievement", achievement_id=created.public_id))
    return _achievement_page(form, None)


@bp.route("/achievements/<achievement_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_achievement(achievement_id: str) -> Any:
    ctx = get_context()
    current = catalog.get_definition(ctx, achievement_id)
    form = AchievementForm()
    if request.method == "GET":
        form.fill(current.data)
        return _achievement_page(form, current)
    if not form.validate_on_submit():
        return _achievement_page(form, current), 400
    try:
        spec, _ = form.to_spec(slug=current.data["slug"])
        updated = catalog.update_achievement(
            ctx,
            current.public_id,
            spec=spec,
            keep_image=not form.remove_image.data,
            actor=_actor(),
        )
    except ValidationError as exc:
        _invalid(form, exc, dict(form.ALIASES))
        return _achievement_page(form, current), 400
    flash(f"Achievement “{updated.name}” was saved; awards issued from now on carry the change.")
    return redirect(url_for("admin.edit_achievement", achievement_id=updated.public_id))


@bp.post("/achievements/validate")
@role_required(Role.ADMIN)
def validate_achievement() -> Response:
    """Live validation: the achievement form's field errors as JSON (nothing saved)."""
    form = AchievementForm()
    slug = None
    editing = request.form.get("editing")
    if editing:
        slug = catalog.get_definition(get_context(), editing).data["slug"]
    if form.validate_on_submit():
        try:
            spec, _ = form.to_spec(slug=slug)
        except ValidationError as exc:
            attach_errors(form, exc.fields, dict(form.ALIASES))
        else:
            if not editing and catalog.slug_taken(get_context(), spec.slug):
                form.slug.errors = [f"achievement {spec.slug!r} already exists"]
    return jsonify(valid=not errors_of(form), errors=errors_of(form))


def _issuer_slug() -> str:
    issuer = catalog.get_issuer(get_context())
    if issuer is None:
        abort(409, description="no issuer configured (run `badger init`)")
    return issuer.slug


def _achievement_page(form: AchievementForm, current: catalog.Definition | None) -> str:
    return render_template(
        "admin/achievement_form.html",
        form=form,
        current=current,
        types=TYPE_CHOICES,
    )


@bp.route("/achievements/<achievement_id>/rules", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def rules_dry_run(achievement_id: str) -> Any:
    ctx = get_context()
    current = catalog.get_definition(ctx, achievement_id)
    form = RulesDryRunForm()
    lines = None
    status_code = 200
    if request.method == "GET":
        rules = current.data.get("rules")
        form.rules.data = json.dumps(rules, indent=2) if rules else ""
    elif form.validate_on_submit():
        try:
            lines = awarding.simulate_rules(ctx, current.public_id, form.parsed())
        except ValidationError as exc:
            _invalid(form, exc)
            status_code = 400
    else:
        status_code = 400
    return render_template(
        "admin/rules_dry_run.html", form=form, current=current, lines=lines
    ), status_code


# ---------------------------------------------------------------- review queue


REVIEW_KINDS = ("evidence", "activity", "proposal")


@bp.get("/review")
@role_required(Role.REVIEWER)
def review_queue() -> str:
    wanted = request.args.get("status", "submitted")
    kind = request.args.get("kind", "")
    if kind not in ("", *REVIEW_KINDS):
        raise ValidationError("kind", f"one of {', '.join(REVIEW_KINDS)}")
    entries = review.queue(get_context(), status=wanted, limit=review.MAX_QUEUE)
    if kind:
        entries = [e for e in entries if e.submission.kind == kind]
    return render_template(
        "admin/review_queue.html",
        entries=entries,
        status=wanted,
        statuses=review.STATUSES,
        kind=kind,
        kinds=REVIEW_KINDS,
    )


@bp.route("/review/<submission_id>", methods=["GET", "POST"])
@role_required(Role.REVIEWER)
def review_submission(submission_id: str) -> Any:
    ctx = get_context()
    submission = review.get_submission(ctx, submission_id)
    form = DecisionForm()
    if request.method == "GET" and submission.kind == "proposal":
        form.slug.data = review.proposal_slug(submission.title)
        form.credits.data = reports.plain_number(submission.credits) if submission.credits else ""
        form.category.data = submission.category or ""
    if request.method == "POST":
        if not form.validate_on_submit():
            return _review_page(form, submission), 400
        try:
            result = review.review(
                ctx,
                submission.public_id,
                decision=form.decision.data or "",
                comment=form.comment.data,
                reviewer=current_user.view,
                entry=form.catalogue_entry() if submission.kind == "proposal" else None,
            )
        except ValidationError as exc:
            _invalid(form, exc)
            return _review_page(form, submission), 400
        except Conflict as exc:
            form.form_errors.append(exc.message)
            return _review_page(form, submission), 409
        message = f"Submission {result.submission.status}."
        if result.achievement is not None:
            message += f" “{result.achievement.name}” is now in the catalogue."
        if result.awarded:
            message += f" {len(result.awarded)} badge(s) awarded."
        flash(message)
        return redirect(url_for("admin.review_queue"))
    return _review_page(form, submission)


def _review_page(form: DecisionForm, submission: review.SubmissionView) -> str:
    return render_template("admin/review_submission.html", form=form, s=submission)


@bp.get("/review/files/<upload_id>")
@role_required(Role.REVIEWER)
def review_file(upload_id: str) -> Response:
    """An evidence file, always as a download (never rendered in the console's origin)."""
    content = uploads.load_upload(get_context(), upload_id)
    response = Response(content.content, mimetype=content.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{content.filename}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- manual and bulk awards


def _achievement_choices(*, blank: str | None = None) -> list[SelectChoice]:
    choices = [
        SelectChoice(a.slug, f"{a.name} ({a.slug})")
        for a in catalog.list_achievements(get_context(), public_only=False)
    ]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


@bp.route("/awards/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def manual_award() -> Any:
    form = ManualAwardForm()
    form.achievement.choices = _achievement_choices()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("admin/award_form.html", form=form), 400
        evidence = [
            issue.EvidenceInput(url=line.strip())
            for line in (form.evidence.data or "").splitlines()
            if line.strip()
        ]
        try:
            issued = issue.issue_award(
                get_context(),
                issue.IssueRequest(
                    achievement=form.achievement.data or "",
                    recipient=(form.recipient.data or "").strip(),
                    recipient_name=(form.recipient_name.data or "").strip() or None,
                    evidence=evidence,
                    narrative=(form.narrative.data or "").strip() or None,
                    basis={"rule": "manual"},
                ),
                actor=_actor(),
            )
        except ValidationError as exc:
            _invalid(form, exc, RECIPIENT_ALIASES)
            return render_template("admin/award_form.html", form=form), 400
        except Conflict as exc:
            form.form_errors.append(exc.message)
            return render_template("admin/award_form.html", form=form), 409
        flash(f"Awarded to {issued.recipient}.")
        return redirect(url_for("admin.list_awards", recipient=issued.recipient))
    return render_template("admin/award_form.html", form=form)


@bp.route("/bulk", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def bulk_upload() -> Any:
    ctx = get_context()
    form = BulkUploadForm()
    form.achievement.choices = _achievement_choices(blank="(from the file)")
    jobs = bulk.list_jobs(ctx, limit=20)
    if request.method == "GET":
        return render_template("admin/bulk.html", form=form, jobs=jobs, problems=None)
    upload = form.file.data
    if not form.validate_on_submit() or upload is None or not upload.filename:
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [*form.file.errors, "choose a CSV file"]
        return render_template("admin/bulk.html", form=form, jobs=jobs, problems=None), 400
    content = upload.read()
    try:
        parsed = bulk.parse_csv(ctx, content, default_achievement=form.achievement.data or None)
        if parsed.problems and not form.skip_invalid.data:
            return render_template(
                "admin/bulk.html", form=form, jobs=jobs, problems=parsed.problems
            ), 400
        job = bulk.create_job(
            ctx, filename=upload.filename, content=content, parsed=parsed, actor=_actor()
        )
    except ValidationError as exc:
        _invalid(form, exc)
        return render_template("admin/bulk.html", form=form, jobs=jobs, problems=None), 400
    ctx.jobs.enqueue_bulk(job.public_id)
    return redirect(url_for("admin.bulk_job", job_id=job.public_id))


@bp.get("/bulk/<job_id>")
@role_required(Role.ADMIN)
def bulk_job(job_id: str) -> str:
    job = bulk.get_job(get_context(), job_id)
    return render_template("admin/bulk_job.html", job=job)


# ---------------------------------------------------------------- awards and their status


@bp.get("/awards")
@role_required(Role.ADMIN)
def list_awards() -> Any:
    form = AwardSearchForm(request.args)
    lines: list[awards.AwardLine] = []
    code = 200
    if form.validate():
        try:
            lines = awards.list_awards(
                get_context(),
                achievement=(form.achievement.data or "").strip() or None,
                recipient=(form.recipient.data or "").strip() or None,
                limit=200,
            )
        except ValidationError as exc:
            _invalid(form, exc, RECIPIENT_ALIASES)
            code = 400
    else:
        code = 400
    return render_template("admin/awards.html", form=form, lines=lines), code


@bp.get("/awards/<award_id>")
@role_required(Role.ADMIN)
def award_detail(award_id: str) -> str:
    detail = awards.award_detail(get_context(), award_id)
    return render_template("admin/award.html", d=detail, line=detail.line, basis=detail.basis)


STATUS_ACTIONS = ("revoke", "suspend", "unsuspend")


@bp.route("/awards/<award_id>/<action>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def change_status(award_id: str, action: str) -> Any:
    if action not in STATUS_ACTIONS:
        abort(404, description=f"no action {action!r}")
    ctx = get_context()
    award = reports.award_summary(ctx, award_id)
    form = StatusChangeForm()
    if action == "unsuspend":
        form.reason.description = "Optional: why the suspension is lifted (kept in the audit log)."
    if request.method == "POST":
        if not form.validate_on_submit():
            return _status_page(form, award, action), 400
        reason = (form.reason.data or "").strip()
        try:
            if action == "revoke":
                status.revoke(ctx, award.public_id, reason=reason, actor=_actor())
            elif action == "suspend":
                if not reason:
                    raise ValidationError("reason", "say why the badge is suspended")
                status.suspend(ctx, award.public_id, reason=reason, actor=_actor())
            else:
                status.unsuspend(ctx, award.public_id, actor=_actor(), reason=reason or None)
        except ValidationError as exc:
            _invalid(form, exc)
            return _status_page(form, award, action), 400
        except Conflict as exc:
            form.form_errors.append(exc.message)
            return _status_page(form, award, action), 409
        flash(f"The badge was {'reinstated' if action == 'unsuspend' else action + 'd'}.")
        return redirect(url_for("admin.list_awards", achievement=award.achievement))
    return _status_page(form, award, action)


def _status_page(form: StatusChangeForm, award: reports.AwardSummary, action: str) -> str:
    verb = {"revoke": "Revoke", "suspend": "Suspend", "unsuspend": "Reinstate"}[action]
    return render_template(
        "admin/status_change.html", form=form, award=award, action=action, verb=verb
    )


# ---------------------------------------------------------------- renewal policies


@bp.route("/policies", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def policies() -> Any:
    ctx = get_context()
    form = PolicyForm()
    result: dict[str, Any] | None = None
    code = 200
    if request.method == "GET" and request.args.get("key"):
        version = request.args.get("version", "")
        saved = cycles.get_policy(
            ctx, request.args["key"], int(version) if version.isdigit() else None
        )
        form.policy.data = json.dumps(saved.document, indent=2)
    elif request.method == "POST":
        if not form.validate_on_submit():
            code = 400
        elif form.save.data:
            return _save_policy(form)
        else:
            try:
                result = _check_policy(form)
            except ValidationError as exc:
                _invalid(form, exc)
                code = 400
    return _policies_page(form, result), code


def _policies_page(form: PolicyForm, result: dict[str, Any] | None) -> str:
    return render_template(
        "admin/policies.html", form=form, result=result, saved=cycles.list_policies(get_context())
    )


def _save_policy(form: PolicyForm) -> Any:
    try:
        policy_data, _ = form.documents()
        try:
            saved = cycles.import_policy(get_context(), policy_data, actor=_actor())
        except ValidationError as exc:
            raise prefixed(exc, "policy") from None
    except ValidationError as exc:
        _invalid(form, exc)
        return _policies_page(form, None), 400
    except Conflict as exc:
        form.policy.errors = [*form.policy.errors, exc.message]
        return _policies_page(form, None), 409
    if saved.created:
        flash(f"Saved {saved.name} as {saved.key} version {saved.version}.")
    else:
        flash(f"{saved.key} version {saved.version} was already saved with this content.")
    return redirect(url_for("admin.policies", key=saved.key, version=saved.version))


def _check_policy(form: PolicyForm) -> dict[str, Any]:
    policy_data, activities_data = form.documents()
    try:
        policy = ledger.parse_policy(policy_data)
    except ValidationError as exc:
        raise prefixed(exc, "policy") from None
    if activities_data is None:
        return {"policy": policy, "ledger": None}
    as_of = None
    if form.as_of.data:
        try:
            as_of = datetime.fromisoformat(form.as_of.data.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("as_of", "not an ISO 8601 date-time") from None
        if as_of.tzinfo is None:
            raise ValidationError("as_of", "needs a time zone, e.g. Z")
    try:
        policy, result = ledger.simulate(policy_data, activities_data, as_of=as_of)
    except ValidationError as exc:
        raise prefixed(exc, "activities") from None
    return {"policy": policy, "ledger": result}


# ---------------------------------------------------------------- certification cycles


@bp.get("/cycles")
@role_required(Role.ADMIN)
def list_cycles() -> str:
    wanted = request.args.get("status") or None
    items = cycles.list_cycles(get_context(), status=wanted)
    return render_template(
        "admin/cycles.html", items=items, status=wanted or "", statuses=CYCLE_STATUSES
    )


@bp.get("/cycles/<cycle_id>")
@role_required(Role.ADMIN)
def show_cycle(cycle_id: str) -> str:
    return _cycle_page(cycles.get_cycle(get_context(), cycle_id))


def _cycle_page(
    cycle: cycles.CycleView,
    extension: ExtensionForm | None = None,
    hiatus: HiatusForm | None = None,
    reactivate: ConfirmForm | None = None,
    problem: str | None = None,
) -> str:
    return render_template(
        "admin/cycle.html",
        cycle=cycle,
        problem=problem,
        extension=extension or ExtensionForm(formdata=None),
        hiatus=hiatus or HiatusForm(formdata=None),
        reactivate=reactivate or ConfirmForm(formdata=None),
    )


@bp.post("/cycles/<cycle_id>/<action>")
@role_required(Role.ADMIN)
def change_cycle(cycle_id: str, action: str) -> Any:
    """Staff actions on one cycle: ``extend``, ``hiatus`` or ``reactivate``."""
    ctx = get_context()
    cycle = cycles.get_cycle(ctx, cycle_id)
    form: FlaskForm
    if action == "extend":
        form = ExtensionForm()
        page = {"extension": form}
    elif action == "hiatus":
        form = HiatusForm()
        page = {"hiatus": form}
    elif action == "reactivate":
        form = ConfirmForm()
        page = {"reactivate": form}
    else:
        raise NotFound(f"no action {action!r}")
    if not form.validate_on_submit():
        return _cycle_page(cycle, **page), 400
    try:
        if isinstance(form, ExtensionForm):
            days = form.whole_days()
            cycles.grant_extension(
                ctx, cycle.public_id, days=days, reason=form.reason.data or "", actor=_actor()
            )
            message = f"The deadline moved by {days} days."
        elif isinstance(form, HiatusForm):
            cycles.start_hiatus(ctx, cycle.public_id, reason=form.reason.data or "", actor=_actor())
            message = "The cycle is on hiatus; its clock is paused."
        else:
            cycles.end_hiatus(ctx, cycle.public_id, actor=_actor())
            message = "The cycle is active again; the deadline moved by the time paused."
    except ValidationError as exc:
        _invalid(form, exc)
        return _cycle_page(cycle, **page), 400
    except Conflict as exc:
        # The form that failed may not be on the page any more (the cycle moved on).
        return _cycle_page(cycle, problem=exc.message, **page), 409
    flash(message)
    return redirect(url_for("admin.show_cycle", cycle_id=cycle.public_id))


CYCLE_STATUSES = ("active", "inactive", "grace", "lapsed", "renewed")


@bp.get("/cycles/requests")
@role_required(Role.ADMIN)
def cycle_requests() -> str:
    wanted = request.args.get("status", "pending")
    items = cycles.list_requests(get_context(), status=wanted)
    return render_template("admin/cycle_requests.html", items=items, status=wanted)


@bp.route("/cycles/requests/<request_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def decide_cycle_request(request_id: str) -> Any:
    ctx = get_context()
    item = _find_request(request_id)
    form = RequestDecisionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _request_page(form, item), 400
        try:
            decided = cycles.decide_request(
                ctx,
                item.public_id,
                decision=form.decision.data or "",
                actor=_actor(),
                comment=form.comment.data,
                days=form.granted_days() if item.kind == "extension" else None,
            )
        except ValidationError as exc:
            _invalid(form, exc)
            return _request_page(form, item), 400
        except Conflict as exc:
            form.form_errors.append(exc.message)
            return _request_page(form, item), 409
        flash(f"The {decided.kind} request of {decided.learner_name} was {decided.status}.")
        return redirect(url_for("admin.cycle_requests"))
    return _request_page(form, item)


def _find_request(request_id: str) -> cycles.RequestView:
    for status_name in ("pending", None):
        for item in cycles.list_requests(get_context(), status=status_name):
            if item.public_id == request_id:
                return item
    raise NotFound(f"no request {request_id!r}")


def _request_page(form: RequestDecisionForm, item: cycles.RequestView) -> str:
    cycle = cycles.get_cycle(get_context(), item.cycle_public_id)
    return render_template("admin/cycle_request.html", form=form, item=item, cycle=cycle)


@bp.get("/cycles/review")
@role_required(Role.ADMIN)
def renewal_reviews() -> str:
    return render_template(
        "admin/renewal_reviews.html",
        items=cycles.review_queue(get_context()),
        form=RenewalReviewForm(),
    )


@bp.post("/cycles/review/<cycle_id>")
@role_required(Role.ADMIN)
def resolve_renewal_review(cycle_id: str) -> Any:
    ctx = get_context()
    form = RenewalReviewForm()
    code = 400
    if form.validate_on_submit():
        try:
            cycles.resolve_review(
                ctx,
                cycle_id,
                decision=form.decision.data or "",
                actor=_actor(),
                comment=form.comment.data,
            )
        except ValidationError as exc:
            _invalid(form, exc)
        except Conflict as exc:
            form.form_errors.append(exc.message)
            code = 409
        else:
            flash("The renewal review was resolved.")
            return redirect(url_for("admin.renewal_reviews"))
    items = cycles.review_queue(ctx)
    return render_template(
        "admin/renewal_reviews.html", items=items, form=form, failed=cycle_id
    ), code


# ---------------------------------------------------------------- reports

# "At risk of lapsing": open cycles due within this many days, not yet satisfied.
AT_RISK_DAYS = 90


@bp.get("/reports")
@role_required(Role.ADMIN)
def reports_page() -> str:
    ctx = get_context()
    months = reports.awards_by_month(ctx)
    return render_template(
        "admin/reports.html",
        credits=reports.credits_by_category(ctx),
        months=months,
        chart=reports.bar_chart(months),
        at_risk=cycles.at_risk(ctx, now=ctx.now(), within_days=AT_RISK_DAYS),
        at_risk_days=AT_RISK_DAYS,
    )


@bp.get("/reports/<name>.csv")
@role_required(Role.ADMIN)
def report_csv(name: str) -> Response:
    ctx = get_context()
    if name == "credits-by-category":
        body = reports.credits_csv(reports.credits_by_category(ctx))
    elif name == "awards-by-month":
        body = reports.months_csv(reports.awards_by_month(ctx))
    elif name == "at-risk":
        body = reports.at_risk_csv(cycles.at_risk(ctx, now=ctx.now(), within_days=AT_RISK_DAYS))
    else:
        abort(404, description=f"no report {name!r}")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
