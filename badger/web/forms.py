"""Flask-WTF forms (CSRF on every one of them)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional


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


# ---------------------------------------------------------------- learners


class SignUpForm(FlaskForm):
    display_name = StringField(
        "Your name",
        validators=[DataRequired(), Length(max=200)],
        description="As it should appear on your badges.",
    )
    email = StringField(
        "Email",
        validators=[DataRequired(), Length(max=254)],
        description="We send a link to confirm it.",
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=1024)],
        description="At least 12 characters; a few words you will remember work well.",
    )


class ForgotPasswordForm(FlaskForm):
    email = StringField(
        "Email",
        validators=[DataRequired(), Length(max=254)],
        description="The address you sign in with.",
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=1024)],
        description="At least 12 characters.",
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )


class AddEmailForm(FlaskForm):
    email = StringField(
        "Another email address",
        validators=[DataRequired(), Length(max=254)],
        description="We send a link to it; the address counts once you follow the link.",
    )


class AddDidForm(FlaskForm):
    did = StringField(
        "DID",
        validators=[DataRequired(), Length(max=500)],
        description="A did:key (did:key:z6Mk…); you will sign a challenge with its key.",
    )


class ProveDidForm(FlaskForm):
    challenge = HiddenField(validators=[DataRequired(), Length(max=1024)])
    proof = TextAreaField(
        "Signed challenge (compact JWS)",
        validators=[DataRequired(), Length(max=4096)],
        description='A JWS with alg EdDSA whose payload is {"nonce": "<the challenge>"}.',
    )


class IdentifierForm(FlaskForm):
    """A button acting on one identifier (``kind:value``)."""

    identifier = HiddenField(validators=[DataRequired(), Length(max=520)])


class EvidenceForm(FlaskForm):
    achievement = SelectField("Achievement", validators=[DataRequired()], choices=[])
    url = URLField(
        "Link to your evidence",
        validators=[Optional(), Length(max=1000)],
        description="An http(s) address, e.g. a portfolio page.",
    )
    narrative = TextAreaField(
        "Written reflection",
        validators=[Optional(), Length(max=10_000)],
        description="What you did and what you learned.",
    )
    file = FileField("File", description="PDF, image or plain text; up to the upload limit.")


class ActivityForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    activity_date = DateField(
        "Date", validators=[Optional()], description="When it took place (not in the future)."
    )
    credits = DecimalField(
        "Credits claimed",
        places=None,
        validators=[DataRequired(message="Give the credits, e.g. 1.5.")],
        description="A number such as 1.5 (at most two decimals).",
    )
    category = StringField(
        "Category",
        validators=[DataRequired(), Length(max=80)],
        description="The CE category slug, e.g. ethics.",
    )
    learning_minutes = IntegerField(
        "Learning minutes", validators=[Optional()], description="Time spent learning, if known."
    )
    url = URLField("Link", validators=[Optional(), Length(max=1000)])
    narrative = TextAreaField("Reflection", validators=[Optional(), Length(max=10_000)])
    file = FileField("Certificate or file")


class ProposalForm(FlaskForm):
    title = StringField("Activity name", validators=[DataRequired(), Length(max=200)])
    url = URLField(
        "Link", validators=[DataRequired(), Length(max=1000)], description="Where it is offered."
    )
    description = TextAreaField(
        "Description", validators=[DataRequired(), Length(max=5000)], description="What it is."
    )
    learned = TextAreaField("What you learned", validators=[DataRequired(), Length(max=5000)])
    credits = DecimalField(
        "Suggested credits",
        places=None,
        validators=[Optional()],
        description="Optional; reviewers decide.",
    )
    category = StringField(
        "Suggested category", validators=[Optional(), Length(max=80)], description="e.g. ethics."
    )


class ResubmitForm(FlaskForm):
    url = URLField("Link", validators=[Optional(), Length(max=1000)])
    narrative = TextAreaField("Reflection", validators=[Optional(), Length(max=10_000)])
    file = FileField("Replace the file")


class VisibilityForm(FlaskForm):
    public = HiddenField(validators=[DataRequired()])


class CycleRequestForm(FlaskForm):
    kind = SelectField(
        "What you ask for",
        choices=[
            SelectChoice("extension", "An extension of the deadline"),
            SelectChoice("hiatus", "A hiatus (pause the cycle)"),
            SelectChoice("reactivation", "Reactivation after a hiatus"),
        ],
        validators=[DataRequired()],
    )
    days = IntegerField(
        "Days of extension",
        validators=[Optional()],
        description="Only for an extension.",
    )
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(), Length(max=2000)],
        description="Staff read it when they decide.",
    )
