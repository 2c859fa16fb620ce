"""The `bot` command: ask, eval, chat, kb check, cases, report, privacy, staff, clerks, notify,
review (bot/cli_review.py) and serve (webhooks/main.py).

Domain errors become `click.ClickException` with a hint; nothing prints a traceback at a user.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.bundle import Bundle
from bot.cases.actions import ImportSummary, import_parsed, unlock
from bot.cases.dates import VN_TZ, today_of
from bot.cases.parse import parse_table
from bot.cases.report import build_report, report_html, report_text
from bot.cases.table import CasesFileError, find_header, read_table
from bot.cases.topics import TopicResolver
from bot.clerks.communes import UnknownCommuneError, load_communes
from bot.clerks.digest import digest_text, digests
from bot.clerks.notify import Plan, TargetError, plan
from bot.clerks.notify import send as send_notice
from bot.clerks.registry import Refusal, parse_clerks, parse_row
from bot.cli_common import actor as _actor
from bot.cli_common import cli_settings
from bot.cli_common import store_run as _store_run
from bot.cli_review import review
from bot.config import Settings
from bot.dialog import Turn
from bot.evaluation import Ask, Bars, cross_validate, evaluate, load_items
from bot.knowledge import KnowledgeBase, KnowledgeError, load, sourcing
from bot.lint import STRICT, lint
from bot.model_cache import model_cache
from bot.models import (
    Case,
    EventKind,
    Incoming,
    Platform,
    State,
    TopicKind,
    TurnKind,
    normalise_code,
)
from bot.models.privacy import Forgotten, PurgeReport
from bot.models.staff import Role, StaffUser
from bot.staff.accounts import (
    AccountError,
    add_account,
    change_password,
    check_name,
    remove_account,
)
from bot.staff.passwords import Passwords
from bot.store import QueuedCounts, Store
from bot.turns.resolve import resolve_turn
from bot.understanding.matcher import Matcher
from bot.workdays import is_working_day

T = TypeVar("T")


def _bundle(settings: Settings, knowledge: str | None = None) -> Bundle:
    path = Path(knowledge) if knowledge else settings.knowledge_path()
    try:
        return Bundle.load(path, settings.matcher, settings.idle_seconds, model_cache(settings))
    except KnowledgeError as exc:
        raise click.ClickException(
            f"the knowledge base at {path} has errors:\n{exc}\nHint: run `bot kb check {path}`"
        ) from exc


def _kb(settings: Settings, knowledge: str | None = None) -> KnowledgeBase:
    path = Path(knowledge) if knowledge else settings.knowledge_path()
    try:
        return load(path)[0]
    except KnowledgeError as exc:
        raise click.ClickException(
            f"the knowledge base at {path} has errors:\n{exc}\nHint: run `bot kb check {path}`"
        ) from exc


@click.group()
@click.option("--config", type=click.Path(dir_okay=False), help="config.yaml to use.")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """Trợ lý Tư pháp: the Tuyên Quang Department of Justice chatbot."""
    ctx.obj = config


@cli.command()
@click.argument("question", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--explain",
    is_flag=True,
    help="Also show what decided: the request, key terms, classifier margins, scores, band.",
)
@click.option("--knowledge", type=click.Path(file_okay=False), help="Knowledge folder.")
@click.pass_obj
def ask(
    config: str | None,
    question: tuple[str, ...],
    as_json: bool,
    explain: bool,
    knowledge: str | None,
) -> None:
    """Answer each QUESTION, or each line of standard input when none is given.

    \b
    Examples:
      bot ask "làm giấy khai sinh cho con cần gì"
      bot ask --json "phi chung thuc ban sao" "how long does marriage registration take"
      bot ask --explain "ket hon voi nguoi nuoc ngoai"   # what decided, signal by signal
      cat questions.txt | bot ask --json
    """
    bundle = _bundle(cli_settings(config), knowledge)
    questions = list(question) or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for q in questions:
        answer = bundle.ask(q)
        if as_json:
            row = {
                "question": q,
                "topic": answer.topic,
                "kind": answer.kind,
                "score": answer.score,
                "reply": answer.text,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"> {q}\n[{answer.topic or 'null'} · {answer.kind} · {answer.score}]")
            if explain:
                click.echo("\n".join(bundle.matcher.explain(q)))
            click.echo(answer.text + "\n")


@cli.command(name="eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--min-accuracy", default=0.97, show_default=True, help="Least in-scope topic accuracy."
)
@click.option(
    "--min-null", default=0.95, show_default=True, help="Least null rate on out-of-scope items."
)
@click.option("--min-must", default=1.0, show_default=True, help="Least share of `must` checks.")
@click.option(
    "--max-wrong",
    default=1.0,
    show_default=True,
    help="Most confident wrong answers, as a share of all lines (1.0: off).",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    help="K-fold cross-validation: each fold answered by the knowledge base taught the others.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the folds' shuffle.")
@click.option("--knowledge", type=click.Path(file_okay=False), help="Knowledge folder.")
@click.pass_obj
def eval_(
    config: str | None,
    files: tuple[str, ...],
    min_accuracy: float,
    min_null: float,
    min_must: float,
    max_wrong: float,
    folds: int | None,
    seed: int,
    knowledge: str | None,
) -> None:
    """Run evaluation sets (JSON lines) and print accuracy per topic, style and kind, the
    confident wrong answers and the questions asked back.

    With --folds K, the lines of all FILES are split into K folds; each fold is answered by
    the knowledge base taught the other folds' lines as phrasings, and the plain figures are
    printed beside the cross-validated ones. Exits 1 when a figure is past its threshold (the
    cross-validated one with --folds).

    \b
    Examples:
      bot eval tests/data/eval.jsonl --min-accuracy 0.9
      bot eval --folds 5 tests/data/eval.jsonl tests/data/eval_blind.jsonl
    """
    settings = cli_settings(config)
    bundle = _bundle(settings, knowledge)
    try:
        items = [item for file in files for item in load_items(Path(file))]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc

    def build(kb_: KnowledgeBase) -> Ask:
        built = (
            bundle
            if kb_ is bundle.kb
            else Bundle.build(kb_, settings.matcher, settings.idle_seconds)
        )

        def run(q: str) -> tuple[str | None, str, bool]:
            answer = built.ask(q)
            # A family card asks which variant was meant: asked back, and right only where the
            # line expects the family itself (a member among its menu is not counted right).
            asked = answer.kind in (TurnKind.CLARIFY.value, TopicKind.FAMILY.value)
            return answer.topic, answer.text, asked

        return run

    if folds is None:
        report, table = evaluate(items, build(bundle.kb)), []
    else:
        started = time.monotonic()

        def progress(message: str) -> None:
            click.echo(f"[{time.monotonic() - started:6.1f} s] {message}", err=True)

        try:
            result = cross_validate(items, bundle.kb, build, folds, seed, progress)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        report, table = result.pooled, result.lines()
        click.echo(f"== cross-validated, pooled over {folds} folds ==")
    for line in [*report.lines(), *table]:
        click.echo(line)
    failed = Bars(min_accuracy, min_null, min_must, max_wrong).failures(report)
    if failed:
        raise click.ClickException("; ".join(failed))


@cli.group()
def kb() -> None:
    """Knowledge base tools."""


@kb.command()
@click.argument("path", required=False, type=click.Path(file_okay=False))
@click.option(
    "--strict/--lenient",
    default=STRICT,
    show_default=True,
    help="Whether a phrasing the matcher sends to another topic is an error (else a warning).",
)
@click.pass_obj
def check(config: str | None, path: str | None, strict: bool) -> None:
    """Validate the knowledge base: one line per problem, exit 1 on errors.

    After the loader's checks come the lints of meaning: a phrasing the matcher does not send
    to its own topic (a warning, an error with --strict), the same phrasing under two topics
    (an error), a name, summary or facet written in one language only (a warning). Other
    warnings (entries past review_by, open verify notes) do not fail the check either.

    \b
    Examples:
      bot kb check
      bot kb check knowledge/
      bot kb check --strict
    """
    settings = cli_settings(config)
    root = Path(path) if path else settings.knowledge_path()
    try:
        kb_, warnings = load(root)
    except KnowledgeError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from exc
    problems = [*warnings, *lint(kb_, settings.matcher, strict, model_cache(settings))]
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
    if errors:
        click.echo(f"{len(errors)} errors, {len(problems) - len(errors)} warnings", err=True)
        raise SystemExit(1)
    counts = sourcing(kb_)
    neither = counts.facets - counts.sourced - counts.noted
    click.echo(
        f"facts: {counts.facets} facets: {counts.sourced} with a source, {counts.noted} with"
        f" a verify note only, {neither} with neither; {counts.stating} state a fee, duration"
        f" or phone number: {counts.stating_sourced} with a source, the other"
        f" {counts.stating - counts.stating_sourced} with a verify note"
    )
    click.echo(f"ok: {len(kb_.topics)} topics, version {kb_.version}, {len(problems)} warnings")


@cli.command()
@click.option("--knowledge", type=click.Path(file_okay=False), help="Knowledge folder.")
@click.pass_obj
def chat(config: str | None, knowledge: str | None) -> None:
    """Talk to the bot in the terminal, with follow-ups ("còn lệ phí thì sao?").

    Type a number to pick a listed option; an empty line or Ctrl-D quits.
    """
    settings = cli_settings(config)
    bundle = _bundle(settings, knowledge)
    state: State | None = None
    click.echo("Trợ lý Tư pháp — gõ câu hỏi (Enter trống để thoát).")
    n = 0
    while True:
        try:
            text = click.prompt("Anh/chị", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if not text.strip():
            break
        n += 1
        msg = Incoming(Platform.CLI, "terminal", f"cli-{n}", EventKind.TEXT, text)
        now_ms = int(time.time() * 1000)
        turn = bundle.dialog.handle(state, msg, now_ms)
        if turn.lookup is not None or turn.subscribe is not None:
            turn = asyncio.run(_resolve(settings, bundle, msg, turn, now_ms))
        state = turn.state
        for reply in turn.replies:
            click.echo(f"\nBot: {reply.text}")
            for i, option in enumerate(reply.quick_replies, start=1):
                click.echo(f"  {i}. {option.title}")
        click.echo("")


@cli.group(name="cases")
def cases_group() -> None:
    """Dossier status: the one-stop system's export (issue 4)."""


PROGRESS_ROWS = 2000  # files with more rows show a progress bar (on standard error)
MAX_REJECTED_SHOWN = 1000


@cases_group.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--knowledge", type=click.Path(file_okay=False), help="Knowledge folder.")
@click.pass_obj
def cases_import(config: str | None, file: str, knowledge: str | None) -> None:
    """Import an export of dossiers (CSV UTF-8 or XLSX), idempotently, in one transaction.

    Prints how many rows were added, updated, unchanged and rejected, then each rejected row
    with its line and reason. Exit 1, changing nothing, when the file cannot be read. Safe to
    run from cron: status changes are recorded and subscribers notified.

    \b
    Examples:
      bot cases import ho-so.xlsx
      bot cases import export.csv      # ',' or ';' separated, with or without a BOM
    """
    settings = cli_settings(config)
    try:
        table = read_table(file)  # before the knowledge base: an unreadable file fails fast
        find_header(table)
        kb_ = _kb(settings, knowledge)
        resolver = TopicResolver(kb_, lambda: Matcher(kb_, settings.matcher, model_cache(settings)))
        if len(table.rows) > PROGRESS_ROWS:
            with click.progressbar(
                length=len(table.rows), label="Reading rows", file=sys.stderr
            ) as bar:
                parsed = parse_table(table, resolver, bar.update)
        else:
            parsed = parse_table(table, resolver)
    except CasesFileError as exc:
        raise click.ClickException(
            f"{exc}\nNothing was imported. Hint: the export needs a header row with at least"
            " Mã hồ sơ, Số điện thoại and Trạng thái"
        ) from exc

    async def run() -> ImportSummary:
        store = await Store.open(settings.db_path())
        try:
            return await import_parsed(store, parsed, kb_, table.source)
        finally:
            await store.close()

    summary = asyncio.run(run())
    c = summary.counts
    click.echo(
        f"{table.source}: {c.added} added, {c.updated} updated, {c.unchanged} unchanged,"
        f" {c.rejected} rejected; {c.status_changes} status changes, {c.notices_queued}"
        f" notices queued, {c.notices_undeliverable} undeliverable"
    )
    for row in summary.rejected[:MAX_REJECTED_SHOWN]:
        code = f" {row.code}:" if row.code else ""
        click.echo(f"  line {row.line}:{code} {row.reason}")
    if len(summary.rejected) > MAX_REJECTED_SHOWN:
        click.echo(f"  ... and {len(summary.rejected) - MAX_REJECTED_SHOWN} more rejected rows")


@cases_group.command(name="unlock")
@click.argument("code")
@click.option("--reason", default="", help="Why, for the record (e.g. who asked, how checked).")
@click.pass_obj
def cases_unlock(config: str | None, code: str, reason: str) -> None:
    """Forgive the failed checks on dossier CODE, so that its lookups are checked at once again.

    A dossier is never locked by failed checks, only slowed down (up to one check a day); its
    owner's Messenger, Zalo or web chat id that found it before is never slowed. Use this when
    a citizen who never looked it up is made to wait, once the attack has stopped or with the
    owner at hand. A sender's own 24-hour lock is not lifted. Each unlock is recorded in
    case_unlocks with the user who ran it, the reason and how many failed checks were forgiven.

    \b
    Examples:
      bot cases unlock H56-250701-0001
      bot cases unlock "000.00.20.H56-250701-0001" --reason "chủ hồ sơ đến bộ phận một cửa"
    """
    settings = cli_settings(config)
    try:
        by = getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment: record none
        by = ""

    async def run() -> int | None:
        store = await Store.open(settings.db_path())
        try:
            return await unlock(store, code, by=by, reason=reason)
        finally:
            await store.close()

    forgiven = asyncio.run(run())
    if forgiven is None:
        raise click.ClickException(
            f"no dossier {normalise_code(code)} in the database; nothing was changed.\nHint: the"
            " code as printed on the receipt (spaces and case do not matter), imported with"
            " `bot cases import`"
        )
    click.echo(
        f"{normalise_code(code)}: {forgiven} failed checks forgiven; its lookups are checked at"
        " once again (recorded in case_unlocks)."
    )


@cli.group()
def report() -> None:
    """Reports for staff."""


@report.command(name="cases")
@click.option(
    "--html", "html_file", type=click.Path(dir_okay=False), help="Also write an HTML page."
)
@click.option("--today", help="Report as of this date (YYYY-MM-DD); default: today in Vietnam.")
@click.pass_obj
def report_cases(config: str | None, html_file: str | None, today: str | None) -> None:
    """Dossiers by status and by office, the on-time rate ("giải quyết trước và đúng hạn")
    of resolved dossiers, the overdue ones and those due within 2 working days.

    \b
    Examples:
      bot report cases
      bot report cases --html bao-cao.html
    """
    settings = cli_settings(config)
    try:
        day = dt.date.fromisoformat(today) if today else today_of(time.time(), ms=False)
    except ValueError as exc:
        raise click.ClickException(f"--today {today!r}: not a date (YYYY-MM-DD)") from exc
    try:
        kb_ = load(settings.knowledge_path())[0]
    except KnowledgeError:
        kb_ = None  # procedure names as exported

    async def run() -> tuple[list[Case], list[dict[str, Any]]]:
        store = await Store.open(settings.db_path())
        try:
            return await store.all_cases(), await store.case_rows("case_imports", 100_000)
        finally:
            await store.close()

    all_cases, imports = asyncio.run(run())
    last = dt.datetime.fromtimestamp(imports[-1]["imported_at"], VN_TZ) if imports else None
    result = build_report(all_cases, day, last)
    click.echo(report_text(result, kb_))
    if html_file:
        Path(html_file).write_text(report_html(result, kb_), encoding="utf-8")
        click.echo(f"\nHTML report written to {html_file}")


@cli.group()
def privacy() -> None:
    """Personal data: forget a user, purge what outlived its retention period."""


# Platforms whose users the store knows (the terminal chat stores nothing).
_FORGETTABLE = {p.value: p for p in (Platform.FACEBOOK, Platform.ZALO, Platform.WEBCHAT)}
_FORGET_LABELS = {
    "messages": "messages",
    "conversations": "conversation state",
    "outbox": "replies in the outbox",
    "subscriptions": "dossier subscriptions",
    "lookups": "dossier lookups (audit)",
    "locks": "lookup locks",
    "notices": "dossier notices",
    "unanswered": "unanswered questions",
    "handoffs": "requests for staff",
    "clerks": "commune clerk registrations",
    "clerk_notices": "notices sent to them as a clerk",
}


@privacy.command()
@click.argument("platform")
@click.argument("user_id")
@click.pass_obj
def forget(config: str | None, platform: str, user_id: str) -> None:
    """Delete everything stored about one user, in one transaction, and say what it was.

    PLATFORM is facebook, zalo or webchat; USER_ID is the user's id on it (the PSID on
    Messenger, the OA-scoped user id on Zalo, the session id of the web chat), as staff see it
    in the outbox or in a request. Safe while the server runs. The same happens by itself when
    a Zalo user withdraws consent (the user_withdraw event).

    \b
    Examples:
      bot privacy forget zalo 4558424660619243532
      bot privacy forget facebook 1256217357730577
    """
    chosen = _FORGETTABLE.get(platform.strip().lower())
    if chosen is None:
        raise click.ClickException(
            f"unknown platform {platform!r}\nHint: one of {', '.join(_FORGETTABLE)}"
        )
    settings = cli_settings(config)

    async def run() -> Forgotten:
        store = await Store.open(settings.db_path())
        try:
            return await store.forget_user(chosen, user_id)
        finally:
            await store.close()

    forgotten = asyncio.run(run())
    if not forgotten.total:
        click.echo(f"Nothing stored about {chosen.value} user {user_id}.")
        return
    click.echo(f"Deleted everything stored about {chosen.value} user {user_id}:")
    for kind, count in forgotten.rows.items():
        if count:
            click.echo(f"  {count} {_FORGET_LABELS[kind]}")


@privacy.command()
@click.pass_obj
def purge(config: str | None) -> None:
    """Purge now what outlived its retention period (the server does it every purge_hours).

    Prints the rows removed per kind and the disk pages given back. Safe while the server runs.

    \b
    Example:
      bot privacy purge
    """
    settings = cli_settings(config)

    async def run() -> PurgeReport:
        store = await Store.open(settings.db_path())
        try:
            return await store.purge_expired(settings.retention)
        finally:
            await store.close()

    report = asyncio.run(run())
    for kind, count in report.rows.items():
        click.echo(f"{kind}: {count}")
    click.echo(
        f"{report.total} rows purged, {report.pages_freed} pages freed in {report.seconds:.2f} s"
    )


async def _resolve(
    settings: Settings, bundle: Bundle, msg: Incoming, turn: Turn, now_ms: int
) -> Turn:
    """A dossier lookup from `bot chat`, against the database the server uses."""
    store = await Store.open(settings.db_path())
    try:
        return await resolve_turn(store, bundle.dialog, msg, turn, now_ms)
    finally:
        await store.close()


# -- staff accounts (issue 11) -----------------------------------------------------------


@cli.group()
def staff() -> None:
    """Staff accounts of the dashboard (/admin): add, list, remove, change a password."""


def _passwords() -> Passwords:
    """The password hasher of the commands (tests swap in cheap argon2 parameters)."""
    return Passwords()


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    """Prompted twice with hidden input on a terminal; otherwise read from standard input:
    one line, or two identical lines (what `printf 'pw\\npw\\n' | bot staff add` sends)."""
    if _stdin_is_terminal():
        first = click.prompt("Password", hide_input=True, show_default=False)
        again = click.prompt("Password (again)", hide_input=True, show_default=False)
        if first != again:
            raise click.ClickException("the two passwords differ; nothing was changed")
        return str(first)
    lines = sys.stdin.read().split("\n")
    while lines and lines[-1] in ("", "\r"):
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    if len(lines) == 2 and lines[0] != lines[1]:
        raise click.ClickException("the two password lines differ; nothing was changed")
    if len(lines) not in (1, 2):
        raise click.ClickException(
            "expected the password on standard input: one line, or the same line twice"
        )
    return lines[0]


def _staff_run(settings: Settings, job: Callable[[Store], Awaitable[T]]) -> T:
    try:
        return _store_run(settings, job)
    except AccountError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from exc


@staff.command(name="add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="viewer reads the dashboard; editor also edits answers; admin also manages staff.",
)
@click.pass_obj
def staff_add(config: str | None, name: str, role: str) -> None:
    """Create the dashboard account NAME with a password (at least 10 characters).

    The password is asked twice, hidden; when standard input is not a terminal it is read from
    it (one line, or the same line twice). Only its argon2 hash is stored.

    \b
    Examples:
      bot staff add lan --role admin
      printf '%s\\n' "$PASSWORD" | bot staff add tuan --role viewer
    """
    settings = cli_settings(config)
    try:
        check_name(name)
    except AccountError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from exc
    password = _read_password()
    passwords, actor = _passwords(), _actor()
    user = _staff_run(
        settings,
        lambda store: add_account(
            store, passwords, name, Role(role), password, actor=actor, now=time.time()
        ),
    )
    click.echo(f"Added {user.name} ({user.role.value}). Sign in at /admin/login.")


@staff.command(name="list")
@click.pass_obj
def staff_list(config: str | None) -> None:
    """List the dashboard accounts: name, role, created (UTC), disabled or not.

    \b
    Example:
      bot staff list
    """
    settings = cli_settings(config)
    users: list[StaffUser] = _staff_run(settings, lambda store: store.staff_users())
    if not users:
        click.echo("No staff accounts yet. Hint: bot staff add NAME --role admin")
        return
    for user in users:
        created = dt.datetime.fromtimestamp(user.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
        state = "  (disabled)" if user.disabled else ""
        click.echo(f"{user.name}\t{user.role.value}\t{created}{state}")


@staff.command(name="remove")
@click.argument("name")
@click.pass_obj
def staff_remove(config: str | None, name: str) -> None:
    """Delete the account NAME and sign it out everywhere (the audit log keeps its name).

    \b
    Example:
      bot staff remove tuan
    """
    settings = cli_settings(config)
    actor = _actor()
    user = _staff_run(
        settings, lambda store: remove_account(store, name, actor=actor, now=time.time())
    )
    click.echo(f"Removed {user.name} ({user.role.value}).")


@staff.command(name="passwd")
@click.argument("name")
@click.pass_obj
def staff_passwd(config: str | None, name: str) -> None:
    """Set a new password for NAME (asked as for `bot staff add`); signs it out everywhere.

    \b
    Examples:
      bot staff passwd lan
      printf '%s\\n' "$PASSWORD" | bot staff passwd lan
    """
    settings = cli_settings(config)
    password = _read_password()
    passwords, actor = _passwords(), _actor()
    _staff_run(
        settings,
        lambda store: change_password(
            store, passwords, name, password, actor=actor, now=time.time()
        ),
    )
    click.echo(f"Password of {name.strip().lower()} changed; its sessions are ended.")


# -- commune clerks (issue 12) -----------------------------------------------------------


def _commune_label(code: str) -> str:
    commune = load_communes().by_code(code)
    return commune.label if commune is not None else code


@cli.group(name="clerks")
def clerks_group() -> None:
    """The commune clerks: justice and civil-status officers the Department notifies."""


@clerks_group.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def clerks_import(config: str | None, file: str) -> None:
    """Add or update clerks from a CSV UTF-8 or XLSX file; bad rows are reported, good kept.

    The header row: Họ và tên, Xã/phường, Nền tảng, ID người dùng, Số điện thoại (platform
    zalo or facebook; phone optional), matched without case or accents. A clerk is keyed by
    platform and user id: importing again updates them.

    \b
    Examples:
      bot clerks import can-bo-tu-phap.xlsx
      bot clerks import can-bo.csv
    """
    settings = cli_settings(config)
    try:
        parsed = parse_clerks(read_table(file), load_communes())
    except CasesFileError as exc:
        raise click.ClickException(f"{exc}\nNothing was imported.") from exc
    counts = _store_run(settings, lambda store: store.upsert_clerks(parsed.clerks))
    click.echo(
        f"{parsed.source}: {counts.added} added, {counts.updated} updated,"
        f" {counts.unchanged} unchanged, {len(parsed.rejected)} rejected"
    )
    for row in parsed.rejected:
        click.echo(f"  line {row.line}: {row.reason}")


@clerks_group.command(name="add")
@click.option("--name", required=True, help="Họ và tên.")
@click.option("--commune", required=True, help="Xã/phường, e.g. 'Lũng Cú' or 'Phường Hà Giang 1'.")
@click.option("--platform", required=True, help="zalo or facebook.")
@click.option("--user-id", required=True, help="Zalo user id (of the OA) or Messenger PSID.")
@click.option("--phone", default="", help="Số điện thoại (optional).")
@click.pass_obj
def clerks_add(
    config: str | None, name: str, commune: str, platform: str, user_id: str, phone: str
) -> None:
    """Add one clerk (or update the one with that platform and user id).

    \b
    Example:
      bot clerks add --name "Nguyễn Văn A" --commune "lung cu" --platform zalo \\
        --user-id 4558424660619243532 --phone 0912345678
    """
    settings = cli_settings(config)
    values = {"name": name, "commune": commune, "platform": platform, "user_id": user_id}
    result = parse_row({**values, "phone": phone}, load_communes())
    if isinstance(result, Refusal):
        raise click.ClickException(f"{result.en}; nothing was changed")
    counts = _store_run(settings, lambda store: store.upsert_clerks([result]))
    verb = "Added" if counts.added else "Updated" if counts.updated else "Unchanged:"
    click.echo(
        f"{verb} {result.name}, {_commune_label(result.commune)}, {result.platform.value}"
        f" {result.user_id}."
    )


@clerks_group.command(name="list")
@click.option("--commune", help="Only the clerks of this commune or ward.")
@click.pass_obj
def clerks_list(config: str | None, commune: str | None) -> None:
    """List the registry: number, name, commune, platform, user id, phone.

    \b
    Examples:
      bot clerks list
      bot clerks list --commune "Hà Giang 1"
    """
    settings = cli_settings(config)
    code = None
    if commune:
        try:
            code = load_communes().find(commune).code
        except UnknownCommuneError as exc:
            raise click.ClickException(str(exc)) from exc
    rows = _store_run(settings, lambda store: store.clerks(code))
    if not rows:
        click.echo("No clerks registered. Hint: bot clerks import FILE.xlsx")
        return
    for c in rows:
        phone = f"\t{c.phone}" if c.phone else ""
        line = f"{c.id}\t{c.name}\t{_commune_label(c.commune)}\t{c.platform.value}\t{c.user_id}"
        click.echo(line + phone)


@clerks_group.command(name="remove")
@click.argument("clerk")
@click.pass_obj
def clerks_remove(config: str | None, clerk: str) -> None:
    """Remove CLERK (registry number or user id) and the record of notices sent to them.

    \b
    Example:
      bot clerks remove 12
    """
    settings = cli_settings(config)

    async def job(store: Store) -> tuple[str, int] | None:
        found = await store.clerk(clerk)
        if found is None:
            return None
        return found.name, await store.remove_clerk(found.id)

    done = _store_run(settings, job)
    if done is None:
        raise click.ClickException(f"no clerk {clerk!r} in the registry; nothing was changed")
    click.echo(f"Removed {done[0]} and {done[1]} notice records.")


@cli.command()
@click.argument("text")
@click.option(
    "--to",
    "targets",
    multiple=True,
    required=True,
    help="group:NAME, all, commune:NAME or clerk:ID (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="List who would receive it, on which channel.")
@click.option(
    "--event",
    help="Once-only key: a recipient gets each event once (default: from the text).",
)
@click.pass_obj
def notify(
    config: str | None, text: str, targets: tuple[str, ...], dry_run: bool, event: str | None
) -> None:
    """Send TEXT to commune clerks through the outbox (the server delivers it).

    Each recipient gets an event once, also when run again: the same text twice reaches no
    one twice (give --event to send it again on purpose). Messenger clerks are only written
    to within 24 hours of their last message to the Page; others are recorded as failed, and
    running the same notice again once they have written sends it to them only.

    \b
    Examples:
      bot notify --to group:can-bo-tu-phap "Sở Tư pháp thông báo: ..." --dry-run
      bot notify --to commune:"Lũng Cú" --to clerk:12 "Đề nghị cập nhật hồ sơ ..."
      bot notify --to all "Lịch tập huấn ngày 15/12" --event tap-huan-1512
    """
    settings = cli_settings(config)
    groups = dict(settings.clerk_groups)

    async def job(store: Store) -> tuple[Plan, QueuedCounts | None]:
        planned = await plan(store, targets, text, load_communes(), groups, event)
        return planned, None if dry_run else await send_notice(store, planned)

    try:
        planned, counts = _store_run(settings, job)
    except TargetError as exc:
        raise click.ClickException(f"{exc}; nothing was sent") from exc
    for r in planned.recipients:
        why = f"  (not sent: {r.blocked})" if r.blocked else ""
        click.echo(f"{r.label}\t{r.channel}\t{r.address}{why}")
    configured = {
        Platform.ZALO: settings.zalo_enabled,
        Platform.ZALO_GROUP: settings.zalo_enabled,
        Platform.FACEBOOK: settings.facebook_enabled,
    }
    idle = sorted({r.channel for r in planned.recipients if not configured[r.platform]})
    if idle:
        click.echo(
            f"Warning: not configured here: {', '.join(idle)}; those messages wait in the"
            " outbox until a server with their secrets runs (README, Settings).",
            err=True,
        )
    if counts is None:
        click.echo(f"Dry run: {len(planned.recipients)} recipients; nothing was sent.")
        return
    click.echo(
        f"{planned.event}: {counts.queued} queued, {counts.blocked} not sendable (recorded),"
        f" {counts.already} already had it. See `bot report notifications`."
    )


@report.command(name="notifications")
@click.option("--days", default=7, show_default=True, help="Notices of the last DAYS days.")
@click.pass_obj
def report_notifications(config: str | None, days: int) -> None:
    """What was sent to which clerk or group: sent, pending (retrying) or failed, and why.

    \b
    Example:
      bot report notifications --days 30
    """
    settings = cli_settings(config)
    since = time.time() - days * 86400
    rows = _store_run(settings, lambda store: store.notices(since))
    if not rows:
        click.echo(f"No notices in the last {days} days.")
        return
    for n in rows:
        at = dt.datetime.fromtimestamp(n.created_at, VN_TZ).strftime("%Y-%m-%d %H:%M")
        why = f": {n.error}" if n.error else ""
        tries = f" after {n.attempts} attempts" if n.attempts > 1 else ""
        click.echo(
            f"{at}\t{n.event}\t{n.label}\t{n.platform.value}\t{n.status}{tries}{why}\t{n.text[:60]}"
        )
    counts = {s: sum(n.status == s for n in rows) for s in ("sent", "pending", "failed")}
    click.echo(", ".join(f"{v} {k}" for k, v in counts.items()))


@report.command(name="digest")
@click.option("--today", help="As of this date (YYYY-MM-DD); default: today in Vietnam.")
@click.pass_obj
def report_digest(config: str | None, today: str | None) -> None:
    """Show the clerks' deadline digest of a day, commune by commune, without sending it.

    Also lists the dossiers that would be in a digest but whose Đơn vị names no commune.

    \b
    Example:
      bot report digest --today 2026-12-07
    """
    settings = cli_settings(config)
    try:
        day = dt.date.fromisoformat(today) if today else today_of(time.time(), ms=False)
    except ValueError as exc:
        raise click.ClickException(f"--today: not a date (YYYY-MM-DD): {today}") from exc
    communes = load_communes()

    async def job(store: Store) -> tuple[list[Case], dict[str, int]]:
        cases = await store.all_cases()
        clerks: dict[str, int] = {}
        for clerk in await store.clerks():
            clerks[clerk.commune] = clerks.get(clerk.commune, 0) + 1
        return cases, clerks

    cases, clerks = _store_run(settings, job)
    unmatched: list[Case] = []
    found = digests(cases, communes, day, settings.digest_days, unmatched)
    if not is_working_day(day):
        click.echo(f"{day.isoformat()} is not a working day: no digest is sent.")
    for digest in found:
        who = clerks.get(digest.commune.code, 0)
        click.echo(f"== {digest.commune.label}: {who} clerks" + ("" if who else " (not sent)"))
        click.echo(digest_text(digest, day, settings.digest_days) + "\n")
    if not found:
        click.echo("No commune has a dossier overdue or due soon.")
    if unmatched:
        units = sorted({c.unit or "(empty)" for c in unmatched})
        click.echo(
            f"{len(unmatched)} dossiers overdue or due soon name no commune in Đơn vị: "
            + ", ".join(units[:20])
        )


cli.add_command(review)  # the review inbox (issue 11), in its own module
