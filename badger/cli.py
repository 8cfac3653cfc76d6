"""The ``badger`` command line: one click group, subcommands per area.

Every failure prints one ``error: …`` line to stderr and exits non-zero (2 for
bad input or configuration, 1 for an operation that failed); no tracebacks.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from badger import __version__
from badger.config import ENV_DOCS, ConfigError, Settings, load_settings
from badger.domain.errors import Conflict, DomainError, ValidationError
from badger.proofs.errors import ProofError
from badger.services import (
    accounts,
    awarding,
    awards,
    bulk,
    catalog,
    cycles,
    demo,
    issue,
    keys,
    ledger,
    review,
    setup,
    status,
    verification,
)
from badger.services.context import Context, build_context
from badger.services.csvfile import read_csv

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_USAGE = 2

DEFAULT_ADMIN_EMAIL = "admin@example.org"


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn badger's errors into one line on stderr and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(f"configuration: {exc}")
        except ValidationError as exc:
            fail(exc.message)
        except DomainError as exc:
            fail(exc.message, EXIT_FAILED)
        except ProofError as exc:
            fail(f"keys: {exc}", EXIT_FAILED)
        except SQLAlchemyError as exc:
            reason = type(getattr(exc, "orig", None) or exc).__name__
            fail(f"database: {reason}: {str(exc).splitlines()[0][:300]}", EXIT_FAILED)

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return load_settings()


def _context() -> Context:
    ctx = build_context(_settings())
    # Close pooled connections when the command ends, not at interpreter exit.
    click.get_current_context().call_on_close(ctx.engine.dispose)
    return ctx


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="badger")
def main() -> None:
    """badger: issue, verify and roll up Open Badges microcredentials.

    Configuration comes from BADGER_* environment variables (see `badger config`).
    """


# ---------------------------------------------------------------- init / demo


def _issuer_options(func: F) -> F:
    options = [
        click.option("--issuer-slug", default=None, help="Issuer slug [default: BADGER_ISSUER]."),
        click.option("--issuer-name", default="Badger issuer", show_default=True),
        click.option("--issuer-url", default=None, help="Issuer web site [default: base URL]."),
        click.option("--issuer-email", default=None, help="Issuer contact [default: admin email]."),
        click.option(
            "--issuer-id-method",
            type=click.Choice(setup.ISSUER_ID_METHODS),
            default="did:key",
            show_default=True,
            help="How OB 3.0 credentials name the issuer.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_init(
    ctx: Context,
    *,
    admin_email: str,
    admin_password: str,
    admin_name: str,
    issuer_slug: str | None,
    issuer_name: str,
    issuer_url: str | None,
    issuer_email: str | None,
    issuer_id_method: str,
) -> list[str]:
    report = setup.initialize(
        ctx,
        issuer=setup.IssuerInput(
            slug=issuer_slug or ctx.settings.issuer_slug,
            name=issuer_name,
            url=issuer_url or ctx.settings.base_url,
            email=issuer_email or admin_email,
            id_method=issuer_id_method,
        ),
        admin_email=admin_email,
        admin_password=admin_password,
        admin_name=admin_name,
    )
    return report.lines


@main.command()
@click.option("--admin-email", envvar="BADGER_ADMIN_EMAIL", help="First admin's email.")
@click.option(
    "--admin-password",
    envvar="BADGER_ADMIN_PASSWORD",
    help="First admin's password (prompted when omitted on a terminal).",
)
@click.option("--admin-name", default="Administrator", show_default=True)
@_issuer_options
@handle_errors
def init(admin_email: str | None, admin_password: str | None, **options: Any) -> None:
    """Create or upgrade the database, the first issuer, the first admin and the keys folder.

    Running it again is safe: nothing is duplicated and passwords are kept.
    """
    interactive = sys.stdin.isatty()
    if not admin_email:
        if not interactive:
            fail("--admin-email (or BADGER_ADMIN_EMAIL) is required")
        admin_email = click.prompt("Admin email")
    if not admin_password:
        if not interactive:
            fail("--admin-password (or BADGER_ADMIN_PASSWORD) is required")
        admin_password = click.prompt("Admin password", hide_input=True, confirmation_prompt=True)
    ctx = _context()
    for line in _run_init(ctx, admin_email=admin_email, admin_password=admin_password, **options):
        click.echo(line)
    click.echo(f"keys folder: {ctx.settings.keys_dir}")
    click.echo(f"instance folder: {ctx.settings.instance_dir}")


@main.command("demo")
@click.option("--admin-email", envvar="BADGER_ADMIN_EMAIL", default=DEFAULT_ADMIN_EMAIL)
@click.option(
    "--admin-password",
    envvar="BADGER_ADMIN_PASSWORD",
    help="Admin password when the admin is created [default: generated and printed].",
)
@click.option(
    "--learner-password",
    default=None,
    help="Password for the demo learners [default: generated and printed].",
)
@handle_errors
def demo_command(
    admin_email: str, admin_password: str | None, learner_password: str | None
) -> None:
    """Load the sample certification body: CE categories, series, conference, learners.

    Initialises the instance first when needed.  Safe to run repeatedly.
    """
    ctx = _context()
    generated_admin = admin_password is None
    admin_password = admin_password or secrets.token_urlsafe(12)
    learner_password = learner_password or secrets.token_urlsafe(12)
    lines = _run_init(
        ctx,
        admin_email=admin_email,
        admin_password=admin_password,
        admin_name="Demo Administrator",
        issuer_slug=None,
        issuer_name=demo.DEMO_ISSUER["name"],
        issuer_url=demo.DEMO_ISSUER["url"],
        issuer_email=demo.DEMO_ISSUER["email"],
        issuer_id_method="did:key",
    )
    lines += demo.load_demo(ctx, learner_password=learner_password).lines
    for line in lines:
        click.echo(line)
    notes = []
    if any(line == f"admin {admin_email} created" for line in lines):
        shown = admin_password if generated_admin else "(the one you gave)"
        notes.append(f"sign in as admin: {admin_email} / {shown}")
    if any(line.startswith("learner ") and line.endswith(" created") for line in lines):
        emails = ", ".join(email for _, email in demo.DEMO_LEARNERS)
        notes.append(f"demo learners ({emails}) password: {learner_password}")
    saved = ctx.settings.instance_dir / "demo-credentials.txt"
    if notes:
        # Kept (0600, git-ignored instance/) so a second `make run` can point at them.
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write("\n".join(notes) + "\n")
    for note in notes:
        click.echo(note)
    if not notes and saved.is_file():
        click.echo(f"demo sign-in details: {saved}")


# ---------------------------------------------------------------- serve


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=0,
    type=click.IntRange(0, 64),
    help="Run gunicorn with N worker processes (0: the development server).",
)
@click.option("--debug", is_flag=True, help="Development server with the reloader.")
@handle_errors
def serve(host: str, port: int, workers: int, debug: bool) -> None:
    """Serve badger over HTTP."""
    from badger.web.app import build_app

    ctx = _context()
    app = build_app(context=ctx)
    if not setup.is_initialized(ctx):
        click.echo(
            "warning: database not initialised; run `badger init` or `badger demo`", err=True
        )
    url = f"http://{host}:{port}/"
    click.echo(f"badger {__version__} serving {url} (public base URL {ctx.settings.base_url})")
    sys.stdout.flush()
    if workers:
        from badger.wsgi import GunicornApplication

        GunicornApplication(app, {"bind": f"{host}:{port}", "workers": workers}).run()
    else:
        app.run(host=host, port=port, debug=debug, use_reloader=debug)


# ---------------------------------------------------------------- db


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@handle_errors
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    before, after = setup.upgrade_database(_context())
    if before == after:
        click.echo(f"already at {after}")
    else:
        click.echo(f"upgraded {before or 'empty database'} -> {after}")


@db.command("current")
@handle_errors
def db_current() -> None:
    """Show the database's revision and the newest one."""
    current, head = setup.database_status(_context())
    click.echo(f"current: {current or 'empty'}  head: {head}")
    if current != head:
        sys.exit(EXIT_FAILED)


# ---------------------------------------------------------------- users and tokens


@main.group()
def users() -> None:
    """Accounts and roles."""


@users.command("add")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["admin", "reviewer", "learner"]),
    default=("learner",),
    show_default=True,
)
@click.option(
    "--password",
    envvar="BADGER_USER_PASSWORD",
    help="Password [default: prompted on a terminal, else generated and printed].",
)
@handle_errors
def users_add(email: str, display_name: str, roles: tuple[str, ...], password: str | None) -> None:
    """Create an account."""
    generated = False
    if not password:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = secrets.token_urlsafe(12), True
    view = accounts.create_account(
        _context(),
        email=email,
        password=password,
        display_name=display_name,
        roles=list(roles),
        email_verified=True,
        actor="cli",
    )
    click.echo(f"account {view.email} created with roles {', '.join(sorted(roles))}")
    if generated:
        click.echo(f"password: {password}")


@users.command("grant")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "reviewer", "learner"]))
@handle_errors
def users_grant(email: str, role: str) -> None:
    """Grant a role to an existing account."""
    changed = accounts.ensure_role(_context(), email=email, role=role, actor="cli")
    click.echo(f"{email}: {role} {'granted' if changed else 'already held'}")


@main.group()
def tokens() -> None:
    """API tokens for machine clients."""


@tokens.command("create")
@click.option("--email", required=True, help="Account the token acts as.")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expiry in days.")
@handle_errors
def tokens_create(email: str, name: str, days: int | None) -> None:
    """Create a token and print it (shown once)."""
    ctx = _context()
    view = accounts.find_account(ctx, email)
    token = accounts.create_api_token(
        ctx, account_public_id=view.public_id, name=name, valid_days=days
    )
    click.echo(token)


# ---------------------------------------------------------------- catalogue


@main.group()
def achievements() -> None:
    """Achievement definitions."""


@achievements.command("import")
@click.argument("json_file", type=click.File("r"))
@click.option(
    "--update",
    is_flag=True,
    help="Also change the achievements whose slug exists (a new version each; issued "
    "badges keep theirs); without it an existing slug is refused.",
)
@handle_errors
def achievements_import(json_file: Any, update: bool) -> None:
    """Define achievements from a JSON file (one object or a list; schemas/achievement.json).

    All or nothing: one bad definition and none is stored.
    """
    try:
        data = json.load(json_file)
    except ValueError as exc:
        fail(f"{json_file.name}: not JSON ({exc})")
    ctx = _context()
    try:
        specs = catalog.specs_from_json(data)
    except ValidationError as exc:
        fail(exc.message)
    try:
        lines = catalog.import_definitions(
            ctx, issuer_slug=ctx.settings.issuer_slug, specs=specs, update=update, actor="cli"
        )
    except Conflict as exc:
        fail(f"{exc.message}; nothing imported (--update changes existing ones)", EXIT_FAILED)
    for line in lines:
        view = line.view
        if line.outcome == "defined":
            click.echo(f"defined {view.slug} ({view.achievement_type})")
        elif line.outcome == "updated":
            click.echo(f"updated {view.slug} to version {view.version} ({', '.join(line.changed)})")
        else:
            click.echo(f"unchanged {view.slug} (version {view.version})")


@achievements.command("export")
@handle_errors
def achievements_export() -> None:
    """Print every achievement definition as JSON (importable again)."""
    click.echo(json.dumps(catalog.export_definitions(_context()), indent=2))


@achievements.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def achievements_list(as_json: bool) -> None:
    """List achievements (slug, name, type, credits)."""
    items = catalog.list_achievements(_context(), public_only=False)
    if as_json:
        click.echo(json.dumps([a.as_json() for a in items], indent=2))
        return
    for a in items:
        credits = (
            f"{a.credits_available.normalize()} CEU" if a.credits_available is not None else ""
        )
        click.echo(f"{a.slug:34} {a.achievement_type:16} {credits:>9}  {a.name}")


# ---------------------------------------------------------------- issuing


@main.command("issue")
@click.argument("achievement", required=False)
@click.argument("recipient", required=False)
@click.option("--name", "recipient_name", default=None, help="Recipient's display name.")
@click.option("--evidence", "evidence_urls", multiple=True, help="Evidence URL (repeatable).")
@click.option("--narrative", default=None, help="How the requirements were met (Markdown).")
@click.option(
    "--csv",
    "csv_file",
    type=click.File("rb"),
    default=None,
    help="Bulk issue: recipient[,achievement,name,evidence,narrative,issued_on] per row.",
)
@click.option("--skip-invalid", is_flag=True, help="With --csv: issue the good rows anyway.")
@click.option("--background", is_flag=True, help="With --csv: run as a background job.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def issue_command(
    achievement: str | None,
    recipient: str | None,
    recipient_name: str | None,
    evidence_urls: tuple[str, ...],
    narrative: str | None,
    csv_file: Any,
    skip_invalid: bool,
    background: bool,
    as_json: bool,
) -> None:
    """Issue ACHIEVEMENT (slug or id) to RECIPIENT (email or DID) in every format.

    With --csv FILE, issue one award per row (ACHIEVEMENT then applies to rows
    without an achievement column): every row is checked first and nothing is
    issued from a file with a bad row unless --skip-invalid; running the same
    file again issues nothing twice.
    """
    ctx = _context()
    if csv_file is not None:
        _bulk_issue(ctx, csv_file, achievement, skip_invalid, background, as_json)
        return
    if not achievement or not recipient:
        fail("give ACHIEVEMENT and RECIPIENT, or --csv FILE")
    issued = issue.issue_award(
        ctx,
        issue.IssueRequest(
            achievement=achievement,
            recipient=recipient,
            recipient_name=recipient_name,
            evidence=[issue.EvidenceInput(url=url) for url in evidence_urls],
            narrative=narrative,
        ),
        actor="cli",
    )
    if as_json:
        click.echo(json.dumps(issued.as_json(), indent=2))
        return
    click.echo(f"award {issued.public_id}: {issued.achievement_slug} -> {issued.recipient}")
    for fmt, url in issued.formats.items():
        click.echo(f"  {fmt:11} {url}")


def _bulk_issue(
    ctx: Context,
    csv_file: Any,
    achievement: str | None,
    skip_invalid: bool,
    background: bool,
    as_json: bool,
) -> None:
    content = csv_file.read()
    parsed = bulk.parse_csv(ctx, content, default_achievement=achievement)
    for problem in parsed.problems:
        click.echo(str(problem), err=True)
    if parsed.problems and not skip_invalid:
        fail(f"{len(parsed.problems)} bad row(s); nothing issued (fix them or pass --skip-invalid)")
    job = bulk.create_job(
        ctx,
        filename=getattr(csv_file, "name", "upload.csv"),
        content=content,
        parsed=parsed,
        actor="cli",
    )
    # The job holds the rows now; keeping a second copy would double peak memory.
    del parsed, content
    if background:
        where = ctx.jobs.enqueue_bulk(job.public_id)
        click.echo(f"bulk job {job.public_id}: {job.total} rows, {where}")
        return
    with click.progressbar(
        length=job.total, label=f"issuing {job.total} awards", file=sys.stderr
    ) as bar:
        done = bulk.run_job(ctx, job.public_id, progress=bar.update)
    _print_job(done, as_json)


def _print_job(job: bulk.JobView, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(job.as_json(), indent=2))
        return
    click.echo(
        f"bulk job {job.public_id}: {job.status}; {job.issued} issued, {job.skipped} skipped "
        f"(already held), {job.failed} failed of {job.total}"
    )


@main.command("export")
@click.argument("award")
@click.option(
    "--as", "fmt", required=True, type=click.Choice(list(issue.FORMATS)), help="Which rendering."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None)
@handle_errors
def export_command(award: str, fmt: str, output: str | None) -> None:
    """Write one rendering of AWARD exactly as issued (stdout or -o FILE)."""
    document = issue.get_document(_context(), award, fmt)
    if output:
        with open(output, "wb") as fh:
            fh.write(document.content)
        click.echo(f"wrote {len(document.content)} bytes ({document.media_type}) to {output}")
        return
    if document.media_type.startswith("image/png"):
        fail("a PNG is binary: pass -o FILE")
    click.echo(document.content.decode("utf-8"))


@main.command("revoke")
@click.argument("award")
@click.option("--reason", required=True, help="Published with the revocation.")
@handle_errors
def revoke_command(award: str, reason: str) -> None:
    """Revoke AWARD for good (status lists, OB 2.0 revocation list, hosted 410)."""
    change = status.revoke(_context(), award, reason=reason, actor="cli")
    click.echo(f"award {change.award_public_id} revoked: {change.reason}")


@main.command("suspend")
@click.argument("award")
@click.option("--reason", default=None)
@handle_errors
def suspend_command(award: str, reason: str | None) -> None:
    """Suspend AWARD (reversible: sets its suspension status bit)."""
    change = status.suspend(_context(), award, reason=reason, actor="cli")
    click.echo(f"award {change.award_public_id} suspended")


@main.command("unsuspend")
@click.argument("award")
@click.option("--reason", default=None, help="Why the suspension is lifted (audit log).")
@handle_errors
def unsuspend_command(award: str, reason: str | None) -> None:
    """Lift the suspension of AWARD."""
    change = status.unsuspend(_context(), award, actor="cli", reason=reason)
    click.echo(
        f"award {change.award_public_id} active again"
        + (f": {change.reason}" if change.reason else "")
    )


# ---------------------------------------------------------------- verify


EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


@main.command("verify")
@click.argument("badge")
@click.option("--recipient", default=None, help="Email or DID the badge should be issued to.")
@click.option("--json", "as_json", is_flag=True, help="The itemised report as JSON.")
@click.option("--offline", is_flag=True, help="Fetch nothing; badger's own issuers still resolve.")
@handle_errors
def verify_command(badge: str, recipient: str | None, as_json: bool, offline: bool) -> None:
    """Check any badge: BADGE is a file (JSON, JWT, baked PNG/SVG), a URL, or - for stdin.

    Exit status: 0 valid, 1 not valid (invalid, revoked, suspended, expired),
    2 unusable input.
    """
    data: bytes | str
    if badge == "-":
        data = sys.stdin.buffer.read()
    elif os.path.isfile(badge):
        with open(badge, "rb") as fh:
            data = fh.read()
    else:
        data = badge
    report = verification.verify_input(_context(), data, recipient=recipient, offline=offline)
    body = report.as_json()
    if as_json:
        click.echo(json.dumps(body, indent=2))
    else:
        click.echo(f"verdict: {body['verdict']} ({body['format']})")
        for key, value in (body.get("credential") or {}).items():
            if value is not None:
                click.echo(f"  {key}: {value}")
        marks = {"passed": "✓", "failed": "✗", "warning": "!", "not_applicable": "-"}
        for check in body["checks"]:
            click.echo(f"  {marks[check['status']]} {check['step']:14} {check['message']}")
        for n, inner in enumerate(body.get("embedded", []), start=1):
            click.echo(f"  embedded {n}: {inner['verdict']}")
    if body["verdict"] == "valid":
        sys.exit(EXIT_VALID)
    sys.exit(EXIT_UNUSABLE if body["verdict"] == "unusable" else EXIT_INVALID)


# ---------------------------------------------------------------- keys


@main.group("keys")
def keys_group() -> None:
    """Issuer signing keys (encrypted at rest in BADGER_KEYS_DIR)."""


_issuer_option = click.option("--issuer", "issuer_slug", default=None, help="Issuer slug.")


@keys_group.command("list")
@_issuer_option
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def keys_list(issuer_slug: str | None, as_json: bool) -> None:
    """List the issuer's keys, active and retired (public facts only)."""
    lines = keys.list_keys(_context(), issuer_slug)
    if as_json:
        click.echo(json.dumps([line.__dict__ for line in lines], indent=2))
        return
    for line in lines:
        retired = f" retired {line.retired}" if line.retired else ""
        click.echo(f"{line.alg:8} {line.status:8} {line.kid}  created {line.created}{retired}")


@keys_group.command("rotate")
@click.argument("alg", type=click.Choice(keys.ALGORITHMS))
@_issuer_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def keys_rotate(alg: str, issuer_slug: str | None, yes: bool) -> None:
    """Make a new active ALG key; the old one stays published so old credentials verify."""
    if not yes:
        if not sys.stdin.isatty():
            fail("rotation needs confirmation: pass --yes when not on a terminal")
        if not click.confirm(f"Rotate the {alg} key?", default=False):
            fail("not confirmed")
    new = keys.rotate_key(_context(), alg, issuer_slug, actor="cli")
    click.echo(f"new active {alg} key: {new.kid}")


@keys_group.command("export-public")
@_issuer_option
@click.option("-o", "--output", type=click.File("w"), default="-", help="File (default stdout).")
@handle_errors
def keys_export_public(issuer_slug: str | None, output: Any) -> None:
    """Print the issuer's public keys as a JWK Set (no private members)."""
    output.write(json.dumps(keys.public_jwks(_context(), issuer_slug), indent=2) + "\n")


# ---------------------------------------------------------------- awards, events, rules


@main.group("awards")
def awards_group() -> None:
    """Awards that exist."""


@awards_group.command("list")
@click.option("--achievement", default=None, help="Slug or id.")
@click.option("--recipient", default=None, help="Email or DID.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def awards_list(achievement: str | None, recipient: str | None, as_json: bool) -> None:
    """List awards, newest first."""
    lines = awards.list_awards(_context(), achievement=achievement, recipient=recipient)
    if as_json:
        click.echo(json.dumps([line.as_json() for line in lines], indent=2))
        return
    for line in lines:
        click.echo(
            f"{line.public_id}  {line.issued_on:%Y-%m-%d}  {line.status:9} "
            f"{line.achievement:30} {line.recipient}  ({line.basis})"
        )


@awards_group.command("show")
@click.argument("award")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def awards_show(award: str, as_json: bool) -> None:
    """One award and how it came about: for an automatic award, each rule and what met it."""
    detail = awards.award_detail(_context(), award)
    if as_json:
        click.echo(json.dumps(detail.as_json(), indent=2))
        return
    line, basis = detail.line, detail.basis
    click.echo(f"award {line.public_id}")
    click.echo(f"  achievement  {line.achievement} ({line.achievement_name})")
    click.echo(f"  recipient    {line.recipient or '(unclaimed)'}")
    click.echo(f"  issued       {line.issued_on:%Y-%m-%d %H:%M} UTC")
    status = f"{line.status}: {detail.status_reason}" if detail.status_reason else line.status
    click.echo(f"  status       {status}")
    if basis.how == "automatic" and basis.rules is not None:
        click.echo("  how          automatically, when its requirements were met:")
        _echo_rules(basis.rules, depth=2)
    elif basis.how == "bulk":
        row = f" (row {basis.row})" if basis.row else ""
        click.echo(f"  how          bulk issue{row}")
    elif basis.how == "renewal":
        click.echo(f"  how          certification renewal: {basis.summary}")
    else:
        click.echo(f"  how          {basis.how}")


def _echo_rules(node: awards.BasisNode, depth: int) -> None:
    click.echo(f"{'  ' * depth}{'✓' if node.met else '✗'} {node.reason}")
    if not node.children:
        for i in node.inputs:
            when = f", {i.when:%Y-%m-%d}" if i.when else ""
            what = f"{i.kind} {i.ref}: {i.label}{when}" if i.found else f"{i.kind} {i.ref}: gone"
            click.echo(f"{'  ' * (depth + 2)}{what}")
    for child in node.children:
        _echo_rules(child, depth + 1)


@main.group("events")
def events_group() -> None:
    """Completion events (what learners did elsewhere)."""


@events_group.command("import")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--source", default="csv", show_default=True, help="Where the events come from.")
@handle_errors
def events_import(csv_file: Any, source: str) -> None:
    """Record events from CSV: recipient, kind, idempotency_key[, occurred_at, recipient_name, data.*].

    Columns named data.<field> become event data (numbers parsed).  Rows whose
    idempotency_key was seen before are skipped; awards follow automatically.
    """
    name = getattr(csv_file, "name", "CSV")
    try:
        table = read_csv(csv_file.read())
        missing = {"recipient", "kind", "idempotency_key"} - table.columns
        if missing:
            fail(f"{name}: missing column(s) {', '.join(sorted(missing))}")
        rows = list(table)  # all read first: nothing is recorded from a file that cannot be
    except ValidationError as exc:
        fail(f"{name}: {exc.reason}")
    ctx = _context()
    recorded = skipped = awarded = 0
    problems = []
    for number, row in rows:
        payload: dict[str, Any] = {"recipient": row["recipient"], "kind": row["kind"]}
        for key in ("occurred_at", "recipient_name"):
            if row.get(key):
                payload[key] = row[key]
        data = {k[5:]: _cell(v) for k, v in row.items() if k and k.startswith("data.") and v != ""}
        if data:
            payload["data"] = data
        try:
            result = awarding.record_event(
                ctx, payload, idempotency_key=row["idempotency_key"], source=source, actor="cli"
            )
        except ValidationError as exc:
            problems.append(f"row {number}: {exc.message}")
            continue
        recorded += result.recorded
        skipped += not result.recorded
        awarded += len(result.awarded)
        for award in result.awarded:
            click.echo(f"row {number}: awarded {award.achievement_slug} to {award.recipient}")
    click.echo(
        f"{recorded} recorded, {skipped} already known, {awarded} awards, {len(problems)} bad rows"
    )
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(EXIT_FAILED)


def _cell(value: str) -> Any:
    for parse in (int, float):
        try:
            return parse(value)
        except ValueError:
            continue
    return value


@main.group("rules")
def rules_group() -> None:
    """Requirement rules."""


@rules_group.command("simulate")
@click.argument("achievement")
@click.option("--file", "rules_file", type=click.File("r"), required=True, help="New rules (JSON).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def rules_simulate(achievement: str, rules_file: Any, as_json: bool) -> None:
    """Dry-run new rules for ACHIEVEMENT: who would gain or lose it (nothing is written)."""
    try:
        new_rules = json.load(rules_file)
    except ValueError as exc:
        fail(f"{rules_file.name}: not JSON ({exc})")
    lines = awarding.simulate_rules(_context(), achievement, new_rules)
    if as_json:
        click.echo(json.dumps([line.__dict__ for line in lines], indent=2))
        return
    if not lines:
        click.echo("no change: the same people would hold it")
    for line in lines:
        change = "would GAIN" if line.would_hold else "would LOSE"
        click.echo(f"{line.recipient}: {change} it ({line.reason})")


# ---------------------------------------------------------------- policies and the CE ledger


def _load_json(file: Any) -> Any:
    try:
        return json.load(file)
    except ValueError as exc:
        fail(f"{file.name}: not JSON ({exc})")


@main.group("policy")
def policy_group() -> None:
    """Certification renewal policies (schemas/renewal-policy.json)."""


@policy_group.command("check")
@click.argument("policy_file", type=click.File("r"))
@handle_errors
def policy_check(policy_file: Any) -> None:
    """Validate a renewal policy; errors name the field."""
    policy = ledger.parse_policy(_load_json(policy_file))
    exempt = [c.name for c in policy.categories if c.cap is None]
    click.echo(
        f"{policy.key} v{policy.version}: {policy.required_total} credits per {policy.cycle_months}-month cycle; "
        f"category cap {policy.default_category_cap if policy.default_category_cap is not None else 'none'}"
        + (f", exempt: {', '.join(exempt)}" if exempt else "")
    )


@main.group("ledger")
def ledger_group() -> None:
    """The continuing-education ledger."""


@ledger_group.command("simulate")
@click.option("--policy", "policy_file", type=click.File("r"), required=True)
@click.option("--activities", "activities_file", type=click.File("r"), required=True)
@click.option("--as-of", "as_of", default=None, help="ISO date-time: ignore activities after it.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def ledger_simulate(
    policy_file: Any, activities_file: Any, as_of: str | None, as_json: bool
) -> None:
    """Show how every activity counts under a policy, every cap explained (offline)."""
    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--as-of: {as_of!r} is not an ISO 8601 date-time")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    policy, result = ledger.simulate(
        _load_json(policy_file), _load_json(activities_file), as_of=moment
    )
    _print_ledger(policy, result, as_json)


@ledger_group.command("show")
@click.argument("recipient")
@click.option("--policy", "policy_file", type=click.File("r"), required=True)
@click.option("--cycle-start", required=True, help="ISO date the cycle began.")
@click.option("--extension-days", type=click.IntRange(0, 3650), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def ledger_show(
    recipient: str, policy_file: Any, cycle_start: str, extension_days: int, as_json: bool
) -> None:
    """The ledger of RECIPIENT's cycle from the badges and activities badger holds."""
    try:
        start = datetime.fromisoformat(cycle_start.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--cycle-start: {cycle_start!r} is not an ISO 8601 date")
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    policy, result = ledger.learner_ledger(
        _context(),
        recipient,
        _load_json(policy_file),
        cycle_start=start,
        extension_days=extension_days,
    )
    _print_ledger(policy, result, as_json)


def _print_ledger(policy: Any, result: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(ledger.ledger_json(policy, result), indent=2))
        return
    state = "SATISFIED" if result.satisfied else f"{_n(result.remaining)} to go"
    click.echo(
        f"{policy.name} (v{policy.version}): {_n(result.counted_total)} of "
        f"{_n(result.required_total)} counted, {state}"
    )
    click.echo("\nby category:")
    for total in result.categories:
        cap = "exempt" if total.cap is None else f"cap {_n(total.cap)}"
        click.echo(
            f"  {total.name:22} {_n(total.counted):>6} counted of {_n(total.earned):>6} eligible ({cap})"
        )
    click.echo("\nrequirements:")
    for requirement in result.requirements:
        click.echo(f"  {'✓' if requirement.met else '✗'} {requirement.reason}")
    click.echo("\nevery line:")
    for line in result.lines:
        click.echo(f"  {_n(line.counted):>6} / {_n(line.earned):<6} {line.name}: {line.reason}")


def _n(value: Any) -> str:
    """A credit amount as people write it: 3, 2.5, 0.25."""
    text = f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------- review


@main.group("review")
def review_group() -> None:
    """Evidence and activity submissions waiting for a decision."""


@review_group.command("queue")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def review_queue(as_json: bool) -> None:
    """Submissions waiting, oldest first, with their review deadline."""
    entries = review.queue(_context())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": e.submission.public_id,
                        "kind": e.submission.kind,
                        "learner": e.submission.learner_name,
                        "achievement": e.submission.achievement_slug,
                        "title": e.submission.title,
                        "overdue": e.overdue,
                        "due_at": e.due_at.isoformat(),
                    }
                    for e in entries
                ],
                indent=2,
            )
        )
        return
    for e in entries:
        what = e.submission.achievement_slug or e.submission.title or e.submission.kind
        late = "  OVERDUE" if e.overdue else ""
        click.echo(
            f"{e.submission.public_id}  {e.submission.kind:8} {what:30} {e.submission.learner_name}{late}"
        )


@review_group.command("decide")
@click.argument("submission")
@click.option("--reviewer", "reviewer_email", required=True, help="Your reviewer account's email.")
@click.option("--decision", type=click.Choice(["approve", "reject", "return"]), required=True)
@click.option("--comment", default=None, help="Required to reject or return.")
@handle_errors
def review_decide(submission: str, reviewer_email: str, decision: str, comment: str | None) -> None:
    """Approve, reject or return SUBMISSION; approval awards what it completes."""
    ctx = _context()
    reviewer = accounts.find_account(ctx, reviewer_email)
    result = review.review(ctx, submission, decision=decision, comment=comment, reviewer=reviewer)
    click.echo(f"submission {submission}: {result.submission.status}")
    for award in result.awarded:
        click.echo(f"  awarded {award.achievement_slug} to {award.recipient}")


# ---------------------------------------------------------------- jobs and workers


@main.group("jobs")
def jobs_group() -> None:
    """Bulk issue jobs."""


@jobs_group.command("list")
@handle_errors
def jobs_list() -> None:
    """Recent bulk jobs and their progress."""
    for job in bulk.list_jobs(_context()):
        click.echo(
            f"{job.public_id}  {job.status:8} {job.done}/{job.total}  "
            f"issued {job.issued}, skipped {job.skipped}, failed {job.failed}  {job.filename}"
        )


@jobs_group.command("show")
@click.argument("job_id")
@handle_errors
def jobs_show(job_id: str) -> None:
    """A job with every row's outcome (JSON)."""
    click.echo(json.dumps(bulk.get_job(_context(), job_id).as_json(), indent=2))


@jobs_group.command("resume")
@click.argument("job_id")
@handle_errors
def jobs_resume(job_id: str) -> None:
    """Continue a job from its first row without an outcome (after a crash)."""
    ctx = _context()
    job = bulk.get_job(ctx, job_id)
    with click.progressbar(length=job.total - job.done, label="issuing", file=sys.stderr) as bar:
        done = bulk.run_job(ctx, job_id, progress=bar.update)
    _print_job(done, False)


@main.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@handle_errors
def worker_command(burst: bool) -> None:
    """Run a background worker (RQ on BADGER_REDIS_URL) for bulk jobs."""
    settings = _settings()
    if not settings.redis_url:
        fail("set BADGER_REDIS_URL (e.g. redis://127.0.0.1:6379/0); without it jobs run in-process")
    from redis import Redis
    from rq import Worker

    from badger.services.jobs import QUEUE_NAME

    connection = Redis.from_url(settings.redis_url)
    Worker([QUEUE_NAME], connection=connection).work(burst=burst)


# ---------------------------------------------------------------- config


@main.command("config")
@handle_errors
def config_command() -> None:
    """Show the effective configuration (secrets hidden) and every setting's name."""
    settings = _settings()
    shown = {
        "env": settings.env,
        "instance_dir": str(settings.instance_dir),
        "database_url": _hide_password(settings.database_url),
        "base_url": settings.base_url,
        "keys_dir": str(settings.keys_dir),
        "issuer": settings.issuer_slug,
        "mail_backend": settings.mail_backend,
        "secrets": "configured" if "BADGER_SECRET_SESSION" in os.environ else "generated",
    }
    for key, value in shown.items():
        click.echo(f"{key:14} {value}")
    click.echo("\nsettings:")
    for name, doc in ENV_DOCS.items():
        click.echo(f"  {name:44} {doc}")


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"


# ---------------------------------------------------------------- certification cycles

CLI_ACTOR = "cli"


def _moment(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option}: {value!r} is not an ISO 8601 date or date-time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _cycle_json(view: cycles.CycleView) -> dict[str, Any]:
    return {
        "id": view.public_id,
        "learner": view.learner_public_id,
        "learner_name": view.learner_name,
        "policy": {"key": view.policy_key, "version": view.policy_version},
        "certification": view.certification,
        "status": view.status,
        "status_reason": view.status_reason,
        "starts_at": _iso(view.starts_at),
        "base_deadline": _iso(view.base_deadline),
        "effective_deadline": _iso(view.effective_deadline),
        "grace_ends_at": _iso(view.grace_ends_at),
        "days_left": view.days_left,
        "extension_days": view.extension_days,
        "paused_days": view.paused_days,
        "extensions": [
            {
                "days": e.days,
                "reason": e.reason,
                "granted_by": e.granted_by,
                "at": _iso(e.created_at),
            }
            for e in view.extensions
        ],
        "hiatus": [
            {"started_at": _iso(h.started_at), "ended_at": _iso(h.ended_at), "reason": h.reason}
            for h in view.hiatus
        ],
        "renewal_award": view.renewal_award_id,
        "previous_cycle": view.previous_cycle_id,
        "next_cycle": view.next_cycle_id,
        "superseded_at": _iso(view.superseded_at),
        "review_state": view.review_state,
    }


def _cycle_line(view: cycles.CycleView) -> str:
    return (
        f"{view.public_id}  {view.status:8} {view.policy_key} v{view.policy_version}  "
        f"{view.learner_name}  {view.starts_at:%Y-%m-%d} → {view.effective_deadline:%Y-%m-%d}"
        f"  ({view.days_left} days left)"
    )


def _print_cycle(view: cycles.CycleView) -> None:
    click.echo(_cycle_line(view))
    if view.status_reason:
        click.echo(f"  status: {view.status_reason}")
    click.echo(
        f"  deadline {view.base_deadline:%Y-%m-%d} + {view.extension_days} days extended"
        f" + {view.paused_days} days paused = {view.effective_deadline:%Y-%m-%d}"
        f"; grace until {view.grace_ends_at:%Y-%m-%d}"
    )
    for e in view.extensions:
        click.echo(f"  extension +{e.days} days by {e.granted_by}: {e.reason}")
    for h in view.hiatus:
        until = f"{h.ended_at:%Y-%m-%d}" if h.ended_at else "now"
        click.echo(f"  hiatus {h.started_at:%Y-%m-%d} → {until}: {h.reason}")
    if view.renewal_award_id:
        click.echo(f"  renewal credential: {view.renewal_award_id}")
    if view.review_state:
        click.echo(f"  review: {view.review_state} ({view.review_reason})")


def _request_json(r: cycles.RequestView) -> dict[str, Any]:
    return {
        "id": r.public_id,
        "cycle": r.cycle_public_id,
        "learner": r.learner_public_id,
        "learner_name": r.learner_name,
        "kind": r.kind,
        "days": r.days,
        "reason": r.reason,
        "status": r.status,
        "decided_by": r.decided_by,
        "comment": r.comment,
        "created_at": _iso(r.created_at),
        "decided_at": _iso(r.decided_at),
    }


@policy_group.command("import")
@click.argument("policy_file", type=click.File("r"))
@handle_errors
def policy_import(policy_file: Any) -> None:
    """Store a policy version; the same key and version again must be identical."""
    view = cycles.import_policy(_context(), _load_json(policy_file), actor=CLI_ACTOR)
    state = "imported" if view.created else "already present (identical)"
    click.echo(
        f"policy {view.key} v{view.version} {state}: {view.name} (sha256 {view.sha256[:12]})"
    )


@policy_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def policy_list(as_json: bool) -> None:
    """Every stored policy version."""
    views = cycles.list_policies(_context())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "key": v.key,
                        "version": v.version,
                        "name": v.name,
                        "sha256": v.sha256,
                        "required_total": float(v.required_total),
                        "cycle_months": v.cycle_months,
                        "grace_days": v.grace_days,
                        "auto_renew": v.auto_renew,
                        "on_shortfall": v.on_shortfall,
                        "created_at": _iso(v.created_at),
                    }
                    for v in views
                ],
                indent=2,
            )
        )
        return
    for v in views:
        click.echo(
            f"{v.key} v{v.version}  {v.name}: {_n(v.required_total)} credits / {v.cycle_months} months,"
            f" grace {v.grace_days} days{', auto-renew' if v.auto_renew else ''}"
        )


@main.group("cycles")
def cycles_group() -> None:
    """Learners' certification cycles: deadlines, extensions, hiatus, renewal."""


@cycles_group.command("start")
@click.argument("recipient")
@click.option("--policy", "policy_key", required=True, help="Policy key (newest version is used).")
@click.option("--certification", default=None, help="Certification achievement [default: the key].")
@click.option("--start", "start", default=None, help="ISO date the cycle begins [default: now].")
@handle_errors
def cycles_start(
    recipient: str, policy_key: str, certification: str | None, start: str | None
) -> None:
    """Open RECIPIENT's cycle under a policy."""
    ctx = _context()
    moment = _moment(start, "--start") if start else ctx.now()
    view = cycles.start_cycle(
        ctx,
        recipient=recipient,
        policy_key=policy_key,
        certification=certification,
        start=moment,
        actor=CLI_ACTOR,
    )
    click.echo(f"cycle started: {_cycle_line(view)}")


@cycles_group.command("list")
@click.option(
    "--status",
    "status_filter",
    type=click.Choice(["active", "inactive", "grace", "lapsed", "renewed"]),
)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def cycles_list(status_filter: str | None, as_json: bool) -> None:
    """Every cycle (or those in one status)."""
    views = cycles.list_cycles(_context(), status=status_filter)
    if as_json:
        click.echo(json.dumps([_cycle_json(v) for v in views], indent=2))
        return
    for v in views:
        click.echo(_cycle_line(v))


@cycles_group.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def cycles_show(ref: str, as_json: bool) -> None:
    """A cycle (by id) or every cycle of a learner (email or DID), with the ledger."""
    ctx = _context()
    if "@" in ref or ref.startswith("did:"):
        overviews = cycles.learner_cycles(ctx, cycles.find_learner(ctx, ref))
    else:
        overviews = [cycles.cycle_ledger(ctx, ref)]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "cycle": _cycle_json(o.cycle),
                        "ledger": ledger.ledger_json(o.policy, o.ledger),
                        "pending_requests": [_request_json(r) for r in o.pending_requests],
                    }
                    for o in overviews
                ],
                indent=2,
            )
        )
        return
    if not overviews:
        click.echo("no cycles")
    for o in overviews:
        _print_cycle(o.cycle)
        for r in o.pending_requests:
            click.echo(f"  pending request {r.public_id}: {r.kind} {r.days or ''} {r.reason}")
        click.echo("")
        _print_ledger(o.policy, o.ledger, False)
        click.echo("")


@cycles_group.command("extend")
@click.argument("cycle")
@click.option("--days", type=int, required=True)
@click.option("--reason", required=True)
@handle_errors
def cycles_extend(cycle: str, days: int, reason: str) -> None:
    """Move CYCLE's deadline by N days (audited)."""
    view = cycles.grant_extension(_context(), cycle, days=days, reason=reason, actor=CLI_ACTOR)
    click.echo(
        f"extended by {days} days: deadline {view.effective_deadline:%Y-%m-%d} ({view.status})"
    )


@cycles_group.command("migrate")
@click.argument("cycle")
@click.option("--version", "version", type=click.IntRange(1), required=True)
@click.option("--reason", required=True)
@handle_errors
def cycles_migrate(cycle: str, version: int, reason: str) -> None:
    """Move an open CYCLE to another version of its policy (audited)."""
    view = cycles.migrate_cycle(_context(), cycle, version=version, reason=reason, actor=CLI_ACTOR)
    click.echo(
        f"cycle {view.public_id}: now under {view.policy_key} v{view.policy_version}; "
        f"deadline {view.effective_deadline:%Y-%m-%d}"
    )


@cycles_group.command("hiatus")
@click.argument("action", type=click.Choice(["start", "end"]))
@click.argument("cycle")
@click.option("--reason", default=None, help="Required to start a hiatus.")
@handle_errors
def cycles_hiatus(action: str, cycle: str, reason: str | None) -> None:
    """Start a hiatus (clock paused) or end it (reactivation)."""
    ctx = _context()
    if action == "start":
        view = cycles.start_hiatus(ctx, cycle, reason=reason or "", actor=CLI_ACTOR)
    else:
        view = cycles.end_hiatus(ctx, cycle, actor=CLI_ACTOR)
    click.echo(
        f"cycle {view.public_id}: {view.status}; deadline {view.effective_deadline:%Y-%m-%d}"
    )


@cycles_group.command("requests")
@click.option(
    "--status",
    "status_filter",
    type=click.Choice(["pending", "approved", "rejected", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def cycles_requests(status_filter: str, as_json: bool) -> None:
    """Learners' extension, hiatus and reactivation requests."""
    views = cycles.list_requests(
        _context(), status=None if status_filter == "all" else status_filter
    )
    if as_json:
        click.echo(json.dumps([_request_json(r) for r in views], indent=2))
        return
    for r in views:
        days = f" {r.days} days" if r.days else ""
        click.echo(f"{r.public_id}  {r.status:8} {r.kind}{days}  {r.learner_name}: {r.reason}")


@cycles_group.command("decide")
@click.argument("request_id")
@click.option("--decision", type=click.Choice(["approve", "reject"]), required=True)
@click.option("--comment", default=None, help="Required to reject.")
@click.option("--days", type=int, default=None, help="Grant a different number of days.")
@handle_errors
def cycles_decide(request_id: str, decision: str, comment: str | None, days: int | None) -> None:
    """Approve (applies it) or reject a learner's request."""
    view = cycles.decide_request(
        _context(), request_id, decision=decision, actor=CLI_ACTOR, comment=comment, days=days
    )
    click.echo(f"request {view.public_id}: {view.kind} {view.status}")


@cycles_group.command("renew")
@click.argument("cycle")
@handle_errors
def cycles_renew(cycle: str) -> None:
    """Issue the renewal credential of a satisfied CYCLE and open the next cycle."""
    result = cycles.renew(_context(), cycle, actor=CLI_ACTOR)
    click.echo(f"renewed: credential {result.award_public_id}")
    if result.clr_url:
        click.echo(f"  CLR: {result.clr_url}")
    click.echo(f"  next cycle: {_cycle_line(result.next_cycle)}")


@cycles_group.command("tick")
@click.option("--as-of", "as_of", default=None, help="ISO date-time to run as [default: now].")
@handle_errors
def cycles_tick(as_of: str | None) -> None:
    """The daily job: grace, lapse, auto-renewal, deadline and grace reminders (idempotent)."""
    ctx = _context()
    moment = _moment(as_of, "--as-of") if as_of else ctx.now()
    report = cycles.tick(ctx, now=moment)
    click.echo(
        f"tick {report.now:%Y-%m-%d %H:%M}: {report.examined} open cycles, "
        f"{len(report.changes)} status changes, {len(report.renewed)} renewed, "
        f"{len(report.reminders)} reminders"
    )
    for c in report.changes:
        click.echo(
            f"  {c.cycle_public_id} {c.learner_name}: {c.from_status} → {c.to_status}: {c.reason}"
        )
    for cycle_id in report.renewed:
        click.echo(f"  {cycle_id}: renewed")
    for r in report.reminders:
        click.echo(
            f"  {r.cycle_public_id} {r.learner_name}: reminder {r.kind} ({r.days_left} days left)"
        )
    for cycle_id, message in report.failures:
        click.echo(f"  {cycle_id}: failed: {message}", err=True)
    if report.failures:
        sys.exit(EXIT_FAILED)


@cycles_group.command("whatif")
@click.argument("cycle")
@click.option("--credits", "credits_", required=True, help="Credits of the activity.")
@click.option("--category", required=True)
@click.option("--series", default=None)
@click.option(
    "--type", "activity_type", default=None, help="Activity type, e.g. conference, webinar."
)
@click.option("--minutes", type=int, default=None, help="Documented learning minutes.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def cycles_whatif(
    cycle: str,
    credits_: str,
    category: str,
    series: str | None,
    activity_type: str | None,
    minutes: int | None,
    as_json: bool,
) -> None:
    """Preview how an activity would count in CYCLE (nothing is written)."""
    result = cycles.what_if(
        _context(),
        cycle,
        {
            "credits": credits_,
            "category": category,
            "series": series,
            "activity_type": activity_type,
            "learning_minutes": minutes,
        },
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "gain": float(result.gain),
                    "counted": float(result.line.counted),
                    "status": result.line.status,
                    "capped_by": result.capped_by,
                    "reason": result.line.reason,
                    "before": float(result.before.counted_total),
                    "after": float(result.after.counted_total),
                    "satisfied_after": result.after.satisfied,
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"{_n(result.before.counted_total)} → {_n(result.after.counted_total)} of "
        f"{_n(result.after.required_total)} counted (+{_n(result.gain)})"
    )
    click.echo(f"  {result.explanation}")
    if result.capped_by:
        click.echo(f"  limited by: {result.capped_by}")


@cycles_group.command("suggest")
@click.argument("cycle")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@handle_errors
def cycles_suggest(cycle: str, limit: int) -> None:
    """Catalogue achievements that would still count in CYCLE, best gain first."""
    for s in cycles.suggestions(_context(), cycle, limit=limit):
        exempt = " (exempt)" if s.exempt else ""
        click.echo(
            f"+{_n(s.gain):>5}  {s.achievement_slug:32} {s.category}{exempt}: {s.achievement_name}"
        )


@cycles_group.command("at-risk")
@click.option(
    "--within", "within_days", type=click.IntRange(0, 3650), default=90, show_default=True
)
@handle_errors
def cycles_at_risk(within_days: int) -> None:
    """Open cycles due within N days that are not satisfied yet."""
    ctx = _context()
    for a in cycles.at_risk(ctx, now=ctx.now(), within_days=within_days):
        click.echo(f"{_cycle_line(a.cycle)}  {_n(a.remaining)} to go")


@cycles_group.command("review-queue")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def cycles_review_queue(as_json: bool) -> None:
    """Renewals under review after a counted badge was revoked."""
    items = cycles.review_queue(_context())
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "cycle": _cycle_json(i.cycle),
                        "renewal_award_status": i.renewal_award_status,
                        "counted_total": float(i.counted_total),
                        "required_total": float(i.required_total),
                        "unmet": list(i.unmet),
                    }
                    for i in items
                ],
                indent=2,
            )
        )
        return
    for i in items:
        click.echo(
            f"{i.cycle.public_id}  {i.cycle.learner_name}  credential {i.renewal_award_status}: "
            f"{i.cycle.review_reason}"
        )


@cycles_group.command("resolve")
@click.argument("cycle")
@click.option("--decision", type=click.Choice(["reinstate", "revoke"]), required=True)
@click.option("--comment", default=None, help="Required to revoke (published as the reason).")
@handle_errors
def cycles_resolve(cycle: str, decision: str, comment: str | None) -> None:
    """Reinstate or revoke a renewal credential under review."""
    view = cycles.resolve_review(
        _context(), cycle, decision=decision, actor=CLI_ACTOR, comment=comment
    )
    click.echo(f"cycle {view.public_id}: review {view.review_state}")


if __name__ == "__main__":  # pragma: no cover
    main()
