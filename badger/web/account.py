"""Sign in, sign out, and the account page with API tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from badger.services import accounts, claims, dashboard, review
from badger.web.auth import User
from badger.web.context import get_context
from badger.web.forms import ConfirmForm, LoginForm, TokenForm

bp = Blueprint("account", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirect through ``?next=``."""
    if not target:
        return url_for("learner.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("learner.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        view = accounts.authenticate(get_context(), form.email.data or "", form.password.data or "")
        if view is not None:
            login_user(User(view), remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        # One message whatever was wrong: never reveal whether an account exists.
        form.password.errors = ["Email or password is not right."]
        return render_template("account/login.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("account/login.html", form=form), status


@bp.post("/logout")
def logout() -> Any:
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are signed out.")
    return redirect(url_for("public.home"))


def _learner_lists() -> dict[str, Any]:
    ctx, me = get_context(), current_user.view
    return {
        "badges": dashboard.badges_of(ctx, me.learner_public_id),
        "submissions": review.submissions_of(ctx, me.learner_public_id),
        "claims": claims.pending_claims(ctx, me.learner_public_id),
    }


@bp.get("/account")
@login_required
def profile() -> str:
    tokens = accounts.list_api_tokens(get_context(), current_user.view.public_id)
    return render_template(
        "account/profile.html",
        tokens=tokens,
        form=TokenForm(),
        confirm=ConfirmForm(),
        new_token=None,
        **_learner_lists(),
    )


@bp.post("/account/tokens")
@login_required
def create_token() -> Any:
    form = TokenForm()
    ctx = get_context()
    new_token = None
    status = 200
    if form.validate_on_submit():
        new_token = accounts.create_api_token(
            ctx,
            account_public_id=current_user.view.public_id,
            name=form.name.data or "",
            valid_days=form.valid_days.data,
        )
        form = TokenForm(formdata=None)
    else:
        status = 400
    tokens = accounts.list_api_tokens(ctx, current_user.view.public_id)
    return render_template(
        "account/profile.html",
        tokens=tokens,
        form=form,
        confirm=ConfirmForm(),
        new_token=new_token,
        **_learner_lists(),
    ), status


@bp.post("/account/tokens/<prefix>/revoke")
@login_required
def revoke_token(prefix: str) -> Any:
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.revoke_api_token(
            get_context(), account_public_id=current_user.view.public_id, prefix=prefix
        )
        flash(f"Token {prefix} revoked.")
    return redirect(url_for("account.profile"))


@bp.route("/claim/<token>", methods=["GET", "POST"])
def claim(token: str) -> Any:
    """A claim link from an award e-mail: sign in (or sign up) and the badge is yours."""
    if not current_user.is_authenticated:
        flash("Sign in to claim your badge; it will be added to your account.")
        return redirect(url_for("account.login", next=url_for("account.claim", token=token)))
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        result = claims.claim(get_context(), token, current_user.view)
        flash(f"“{result.achievement_name}” is now in your account ({result.identifier}).")
        return redirect(url_for("documents.credential", award_id=result.award_public_id))
    return render_template("account/claim.html", form=form, token=token)
