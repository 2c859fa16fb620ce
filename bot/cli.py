"""The `bot` command: ask, eval, chat, kb check, serve.

Domain errors become `click.ClickException` with a hint; nothing prints a traceback at a user.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from bot.config import ConfigError, Settings, load_settings
from bot.dialog import State
from bot.engine import Engine
from bot.evaluation import evaluate, load_items
from bot.knowledge import KnowledgeError, load
from bot.models import EventKind, Incoming, Platform


def _settings(config: str | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        raise click.ClickException(f"{exc}\nHint: see the settings table in README.md") from exc


def _engine(settings: Settings, knowledge: str | None = None) -> Engine:
    path = Path(knowledge) if knowledge else settings.knowledge_path()
    try:
        return Engine.load(path, settings.matcher, settings.idle_seconds)
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
@click.option("--knowledge", type=click.Path(file_okay=False), help="Knowledge folder.")
@click.pass_obj
def ask(
    config: str | None, question: tuple[str, ...], as_json: bool, knowledge: str | None
) -> None:
    """Answer each QUESTION, or each line of standard input when none is given.

    \b
    Examples:
      bot ask "làm giấy khai sinh cho con cần gì"
      bot ask --json "phi chung thuc ban sao" "how long does marriage registration take"
      cat questions.txt | bot ask --json
    """
    engine = _engine(_settings(config), knowledge)
    questions = list(question) or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for q in questions:
        answer = engine.ask(q)
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
            click.echo(answer.text + "\n")


@cli.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--min-accuracy", default=0.97, show_default=True, help="Least in-scope topic accuracy."
)
@click.option(
    "--min-null", default=0.95, show_default=True, help="Least null rate on out-of-scope items."
)
@click.option("--min-must", default=1.0, show_default=True, help="Least share of `must` checks.")
@click.option("--knowledge", type=click.Path(file_okay=False), help="Knowledge folder.")
@click.pass_obj
def eval_(
    config: str | None,
    file: str,
    min_accuracy: float,
    min_null: float,
    min_must: float,
    knowledge: str | None,
) -> None:
    """Run an evaluation set (JSON lines) and print accuracy per topic and style.

    Exits 1 when a figure is under its threshold.

    \b
    Example:
      bot eval tests/data/eval.jsonl --min-accuracy 0.9
    """
    engine = _engine(_settings(config), knowledge)
    try:
        items = load_items(Path(file))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc

    def run(q: str) -> tuple[str | None, str]:
        answer = engine.ask(q)
        return answer.topic, answer.text

    report = evaluate(items, run)
    for line in report.lines():
        click.echo(line)
    failed = []
    for label, (ok, n), bar in (
        ("in-scope accuracy", report.in_scope, min_accuracy),
        ("out-of-scope null rate", report.out_of_scope, min_null),
        ("must checks", report.must, min_must),
    ):
        if n and ok / n < bar:
            failed.append(f"{label} {ok / n:.3f} < {bar}")
    if failed:
        raise click.ClickException("; ".join(failed))


@cli.group()
def kb() -> None:
    """Knowledge base tools."""


@kb.command()
@click.argument("path", required=False, type=click.Path(file_okay=False))
@click.pass_obj
def check(config: str | None, path: str | None) -> None:
    """Validate the knowledge base: one line per problem, exit 1 on errors.

    Warnings (entries past review_by, open verify notes) do not fail the check.

    \b
    Examples:
      bot kb check
      bot kb check knowledge/
    """
    root = Path(path) if path else _settings(config).knowledge_path()
    try:
        kb_, warnings = load(root)
    except KnowledgeError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from exc
    for problem in warnings:
        click.echo(str(problem))
    click.echo(f"ok: {len(kb_.topics)} topics, version {kb_.version}, {len(warnings)} warnings")


@cli.command()
@click.option("--knowledge", type=click.Path(file_okay=False), help="Knowledge folder.")
@click.pass_obj
def chat(config: str | None, knowledge: str | None) -> None:
    """Talk to the bot in the terminal, with follow-ups ("còn lệ phí thì sao?").

    Type a number to pick a listed option; an empty line or Ctrl-D quits.
    """
    engine = _engine(_settings(config), knowledge)
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
        turn = engine.dialog.handle(state, msg, int(time.time() * 1000))
        state = turn.state
        for reply in turn.replies:
            click.echo(f"\nBot: {reply.text}")
            for i, option in enumerate(reply.quick_replies, start=1):
                click.echo(f"  {i}. {option.title}")
        click.echo("")


@cli.command()
@click.pass_obj
def serve(config: str | None) -> None:
    """Run the webhook server, the web chat (/chat) and the outbox worker.

    With no platform secrets in the environment only the web chat is enabled.

    \b
    Examples:
      bot serve                      # http://127.0.0.1:8080/chat
      BOT_PORT=9000 bot serve
    """
    settings = _settings(config)
    # The edge is imported here, not at the top: bot/ must not depend on webhooks/.
    from webhooks.serve import run

    try:
        run(settings)
    except KnowledgeError as exc:
        raise click.ClickException(
            f"the knowledge base has errors:\n{exc}\nHint: run `bot kb check`"
        ) from exc
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}\n"
            "Hint: set BOT_PORT to a free port"
        ) from exc


def main() -> None:
    cli(prog_name="bot")
