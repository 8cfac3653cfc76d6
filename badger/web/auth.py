"""Who is asking: session sign-in (Flask-Login) or a bearer API token."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, abort, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from badger.domain.accounts import Role
from badger.services import accounts
from badger.services.accounts import AccountView
from badger.web.context import get_context
from badger.web.errors import wants_json

login_manager = LoginManager()
login_manager.login_view = "account.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.session_protection = "strong"

F = TypeVar("F", bound=Callable[..., Any])


class User(UserMixin):
    """Flask-Login's user: a thin wrapper around the service's AccountView."""

    def __init__(self, view: AccountView, *, via_token: bool = False) -> None:
        self.view = view
        self.via_token = via_token

    def get_id(self) -> str:
        # Flask-Login's "alternative token": the session names the account and
        # the password it signed in with, so a reset ends the other sessions.
        return f"{self.view.public_id}.{self.view.session_key}"

    @property
    def is_active(self) -> bool:
        return self.view.is_active

    def has_role(self, role: Role | str) -> bool:
        return self.view.has_role(role)


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    public_id, _, key = session_id.partition(".")
    view = accounts.load_account(get_context(), public_id)
    if view is None or not hmac.compare_digest(key, view.session_key):
        return None
    return User(view)


@login_manager.request_loader
def _load_user_from_token(request: Request) -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    view = accounts.authenticate_token(get_context(), token.strip())
    if view is None:
        g.bad_token = True
        return None
    return User(view, via_token=True)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if wants_json():
        abort(401, description="sign in or send an API token")
    return redirect(url_for("account.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)


def role_required(role: Role) -> Callable[[F], F]:
    """401 for anonymous callers (redirect for pages), 403 for the wrong role."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403, description=f"this needs the {role.value} role")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
