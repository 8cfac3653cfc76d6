"""The learner's pages: sign-up, password reset, identifiers, dashboard, submissions, sharing.

Every view parses its form, calls one service and renders.  Service
:class:`ValidationError` fields are put back on the form field of the same
name (or the closest one), so the page shows the message next to the input.
Pages behind sign-in answer 404 for another learner's records, never 403, so
they do not even confirm that a record exists.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from badger.domain.errors import Conflict, NotFound, ValidationError
from badger.services import (
    accounts,
    catalog,
    cycles,
    dashboard,
    identifiers,
    progress,
    proposals,
    review,
    sharing,
)
from badger.services.accounts import actor_of
from badger.web.context import get_context
from badger.web.forms import (
    ActivityForm,
    AddDidForm,
    AddEmailForm,
    ConfirmForm,
    CycleRequestForm,
    EvidenceForm,
    ForgotPasswordForm,
    IdentifierForm,
    ProposalForm,
    ProveDidForm,
    ResetPasswordForm,
    ResubmitForm,
    SignUpForm,
    VisibilityForm,
)

bp = Blueprint("learner", __name__)

CHECK_INBOX = "Check your inbox: if the address can be used, a message with a link is on its way."


def show_errors(
    form: FlaskForm, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's field errors onto the form fields they belong to."""
    aliases = aliases or {}
    for field, messages in exc.as_dict().items():
        name = aliases.get(field, field)
        target = getattr(form, name, None)
        if target is None or not hasattr(target, "errors"):
            form.form_errors.extend(f"{field}: {m}" for m in messages)
            continue
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.extend(messages)


def _status(form: FlaskForm) -> int:
    return 400 if (form.errors or form.form_errors) else 200


# ---------------------------------------------------------------- sign-up and passwords


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("learner.dashboard"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            accounts.sign_up(
                get_context(),
                email=form.email.data or "",
                password=form.password.data or "",
                display_name=form.display_name.data or "",
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            # The same page whether or not the address already had an account.
            return render_template("learner/check_inbox.html", message=CHECK_INBOX)
    return render_template("learner/signup.html", form=form), _status(form)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(get_context(), form.email.data or "")
        return render_template("learner/check_inbox.html", message=CHECK_INBOX)
    return render_template("learner/forgot.html", form=form), _status(form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    ctx = get_context()
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(ctx, token, form.password.data or "")
        except ValidationError as exc:
            if exc.field == "token":
                raise
            show_errors(form, exc)
        else:
            flash("Your password is changed. Sign in with the new one.")
            return redirect(url_for("account.login"))
    elif request.method == "GET":
        accounts.check_reset_token(ctx, token)
    return render_template("learner/reset.html", form=form, token=token), _status(form)


# ---------------------------------------------------------------- email verification


@bp.route("/email/verify/<token>", methods=["GET", "POST"])
@login_required
def verify_email(token: str) -> Any:
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        address = identifiers.verify_email(get_context(), token, current_user.view)
        flash(f"{address} is confirmed.")
        return redirect(url_for("learner.identifiers_page"))
    address = identifiers.verification_address(get_context(), token, current_user.view)
    return render_template("learner/verify_email.html", form=form, token=token, address=address)


@bp.post("/email/verify")
@login_required
def resend_verification() -> Any:
    if ConfirmForm().validate_on_submit():
        accounts.resend_verification(get_context(), current_user.view.public_id)
        flash(f"A new confirmation link is on its way to {current_user.view.email}.")
    return redirect(url_for("learner.dashboard"))


# ---------------------------------------------------------------- identifiers


def _identifiers_page(**forms: Any) -> Any:
    listed = identifiers.list_identifiers(get_context(), current_user.view.public_id)
    email_form = forms.get("email_form") or AddEmailForm(formdata=None)
    did_form = forms.get("did_form") or AddDidForm(formdata=None)
    status = max(_status(email_form), _status(did_form))
    return render_template(
        "learner/identifiers.html",
        identifiers=listed,
        email_form=email_form,
        did_form=did_form,
        action=IdentifierForm(formdata=None),
    ), status


@bp.get("/account/identifiers")
@login_required
def identifiers_page() -> Any:
    return _identifiers_page()


@bp.post("/account/identifiers/email")
@login_required
def add_email() -> Any:
    form = AddEmailForm()
    if form.validate_on_submit():
        try:
            address = identifiers.request_email(
                get_context(), current_user.view.public_id, form.email.data or ""
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"We sent a link to {address}; follow it to add the address.")
            return redirect(url_for("learner.identifiers_page"))
    return _identifiers_page(email_form=form)


@bp.post("/account/identifiers/did")
@login_required
def add_did() -> Any:
    form = AddDidForm()
    if form.validate_on_submit():
        try:
            did, challenge = identifiers.did_challenge(
                get_context(), current_user.view.public_id, form.did.data or ""
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            prove = ProveDidForm(formdata=None, challenge=challenge)
            return render_template("learner/prove_did.html", did=did, form=prove)
    return _identifiers_page(did_form=form)


@bp.post("/account/identifiers/did/prove")
@login_required
def prove_did() -> Any:
    form = ProveDidForm()
    did = None
    if form.validate_on_submit():
        try:
            did = identifiers.prove_did(
                get_context(), current_user.view, form.challenge.data or "", form.proof.data or ""
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"{did} is proved and added.")
            return redirect(url_for("learner.identifiers_page"))
    return render_template("learner/prove_did.html", did=did, form=form), 400


@bp.post("/account/identifiers/primary")
@login_required
def make_primary() -> Any:
    form = IdentifierForm()
    if form.validate_on_submit():
        identifiers.make_primary(get_context(), current_user.view, form.identifier.data or "")
        flash("Primary identifier changed.")
    return redirect(url_for("learner.identifiers_page"))


@bp.post("/account/identifiers/remove")
@login_required
def remove_identifier() -> Any:
    form = IdentifierForm()
    if form.validate_on_submit():
        identifiers.remove_identifier(get_context(), current_user.view, form.identifier.data or "")
        flash("Identifier removed.")
    return redirect(url_for("learner.identifiers_page"))


# ---------------------------------------------------------------- dashboard


@bp.get("/dashboard", endpoint="dashboard")
@login_required
def dashboard_page() -> Any:
    view = dashboard.dashboard(get_context(), current_user.view.public_id)
    return render_template("learner/dashboard.html", d=view, confirm=ConfirmForm())


# ---------------------------------------------------------------- submissions


def _file(field: Any) -> tuple[bytes, str, str | None] | None:
    """The uploaded file of a FileField as the services take it, or ``None``."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.read(), storage.filename, storage.mimetype or None


def _achievement_choices(selected: str | None) -> list[SelectChoice]:
    listed = catalog.list_achievements(get_context())
    choices = [SelectChoice("", "Choose an achievement")]
    choices += [SelectChoice(a.slug, a.name) for a in listed]
    if selected and all(c.value != selected for c in choices):
        choices.append(SelectChoice(selected, selected))
    return choices


@bp.route("/submit/evidence", methods=["GET", "POST"])
@login_required
def submit_evidence() -> Any:
    form = EvidenceForm()
    if request.method == "GET" and request.args.get("achievement"):
        form.achievement.data = request.args["achievement"]
    form.achievement.choices = _achievement_choices(form.achievement.data)
    if form.validate_on_submit():
        try:
            sent = review.submit_evidence(
                get_context(),
                learner_public_id=current_user.view.learner_public_id,
                achievement=form.achievement.data or "",
                url=form.url.data,
                narrative=form.narrative.data,
                file=_file(form.file),
                actor=actor_of(current_user.view),
            )
        except ValidationError as exc:
            show_errors(form, exc, {"evidence": "narrative", "recipient": "achievement"})
        except (Conflict, NotFound) as exc:
            form.form_errors.append(exc.message)
        else:
            flash(f"Evidence for “{sent.subject}” is waiting for review.")
            return redirect(url_for("learner.dashboard"))
    return render_template("learner/submit_evidence.html", form=form), _status(form)


@bp.route("/submit/activity", methods=["GET", "POST"])
@login_required
def submit_activity() -> Any:
    form = ActivityForm()
    if form.validate_on_submit():
        try:
            sent = review.submit_activity(
                get_context(),
                learner_public_id=current_user.view.learner_public_id,
                title=form.title.data or "",
                credits=form.credits.data,  # type: ignore[arg-type]
                category=form.category.data or "",
                url=form.url.data,
                narrative=form.narrative.data,
                learning_minutes=form.learning_minutes.data,
                activity_date=form.activity_date.data,
                file=_file(form.file),
                actor=actor_of(current_user.view),
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"“{sent.subject}” is waiting for review.")
            return redirect(url_for("learner.dashboard"))
    return render_template("learner/submit_activity.html", form=form), _status(form)


@bp.route("/submit/proposal", methods=["GET", "POST"])
@login_required
def propose_activity() -> Any:
    form = ProposalForm()
    if form.validate_on_submit():
        try:
            sent = proposals.submit_proposal(
                get_context(),
                learner_public_id=current_user.view.learner_public_id,
                title=form.title.data or "",
                url=form.url.data or "",
                description=form.description.data or "",
                learned=form.learned.data or "",
                credits=form.credits.data,
                category=form.category.data,
                actor=actor_of(current_user.view),
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"Thank you: your proposal “{sent.subject}” goes to the reviewers.")
            return redirect(url_for("learner.dashboard"))
    return render_template("learner/propose.html", form=form), _status(form)


def _own_submission(submission_id: str) -> review.SubmissionView:
    found = review.get_submission(get_context(), submission_id)
    if found.learner_public_id != current_user.view.learner_public_id:
        raise NotFound(f"no submission {submission_id!r}")
    return found


@bp.route("/submissions/<submission_id>/revise", methods=["GET", "POST"])
@login_required
def revise(submission_id: str) -> Any:
    current = _own_submission(submission_id)
    form = ResubmitForm()
    if request.method == "GET":
        form.url.data, form.narrative.data = current.url, current.narrative
    elif form.validate_on_submit():
        try:
            review.resubmit(
                get_context(),
                submission_id,
                current_user.view.learner_public_id,
                url=form.url.data or "",
                narrative=form.narrative.data or "",
                file=_file(form.file),
                actor=actor_of(current_user.view),
            )
        except ValidationError as exc:
            show_errors(form, exc, {"evidence": "narrative"})
        except Conflict as exc:
            form.form_errors.append(exc.message)
        else:
            flash(f"“{current.subject}” is back in the review queue.")
            return redirect(url_for("learner.dashboard"))
    return render_template("learner/revise.html", form=form, s=current), _status(form)


# ---------------------------------------------------------------- a badge of one's own


@bp.get("/badges/<award_id>")
@login_required
def badge(award_id: str) -> Any:
    share = sharing.share_page(get_context(), current_user.view.public_id, award_id)
    return render_template(
        "learner/badge.html", share=share, page=share.page, visibility=VisibilityForm()
    )


@bp.post("/badges/<award_id>/visibility")
@login_required
def set_visibility(award_id: str) -> Any:
    form = VisibilityForm()
    if form.validate_on_submit():
        public = form.public.data == "1"
        sharing.set_visibility(get_context(), current_user.view, award_id, public=public)
        flash("The badge page is public again." if public else "The badge page is now hidden.")
    return redirect(url_for("learner.badge", award_id=award_id))


# ---------------------------------------------------------------- renewal


def _renewal(
    cycle_id: str,
    form: CycleRequestForm | None = None,
    renew_form: ConfirmForm | None = None,
    status: int | None = None,
) -> Any:
    page = progress.renewal_page(get_context(), current_user.view.learner_public_id, cycle_id)
    form = form or CycleRequestForm(formdata=None)
    renew_form = renew_form or ConfirmForm(formdata=None)
    return render_template(
        "learner/renewal.html",
        r=page,
        c=page.cycle,
        chart=page.chart,
        form=form,
        renew_form=renew_form,
    ), status or _status(form)


@bp.get("/renewal/<cycle_id>")
@login_required
def renewal(cycle_id: str) -> Any:
    return _renewal(cycle_id)


@bp.post("/renewal/<cycle_id>/requests")
@login_required
def request_change(cycle_id: str) -> Any:
    form = CycleRequestForm()
    if form.validate_on_submit():
        try:
            cycles.request_change(
                get_context(),
                learner_public_id=current_user.view.learner_public_id,
                cycle_public_id=cycle_id,
                kind=form.kind.data or "",
                reason=form.reason.data or "",
                days=form.days.data if form.kind.data == "extension" else None,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        except Conflict as exc:
            form.form_errors.append(exc.message)
        else:
            flash("Your request is sent; staff will decide and you will be told by e-mail.")
            return redirect(url_for("learner.renewal", cycle_id=cycle_id))
    return _renewal(cycle_id, form)


@bp.post("/renewal/<cycle_id>/renew")
@login_required
def renew_now(cycle_id: str) -> Any:
    form = ConfirmForm()
    if not form.validate_on_submit():  # pragma: no cover - CSRFProtect answers a bad token first
        return redirect(url_for("learner.renewal", cycle_id=cycle_id))
    try:
        result = cycles.renew_own(
            get_context(),
            learner_public_id=current_user.view.learner_public_id,
            cycle_public_id=cycle_id,
            actor=actor_of(current_user.view),
        )
    except (Conflict, ValidationError) as exc:
        # Refused (not satisfied, on hiatus, lapsed, already renewed): say why on the page.
        form.form_errors.append(f"Not renewed: {exc.message}")
        return _renewal(cycle_id, renew_form=form, status=409 if isinstance(exc, Conflict) else 400)
    flash(
        f"{result.cycle.certification_name} is renewed; your next cycle runs until "
        f"{result.next_cycle.base_deadline:%d %B %Y}. The renewal credential is on its way by e-mail."
    )
    return redirect(url_for("learner.renewal", cycle_id=result.next_cycle.public_id))
