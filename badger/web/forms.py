"""Flask-WTF forms (CSRF on every one of them)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in on this device")


class TokenForm(FlaskForm):
    name = StringField(
        "Token name", validators=[DataRequired(), Length(max=100)], description="e.g. LMS sync"
    )
    valid_days = IntegerField(
        "Valid for (days)",
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description="Leave empty for no expiry.",
    )


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button."""
