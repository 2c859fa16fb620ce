"""`bot review`: the review inbox from the command line (issue 11, "Learning from misses").

It prints the groups the dashboard's inbox shows (/admin/review), in the same order, numbered,
and carries out the same three decisions on a group through the same `ReviewDesk`, audited the
same way: the actor is the OS user (`cli:NAME`) unless `--as` names the member of staff. A
group is named by its number in the listing or by its key (the normalised text); the decision
applies to the group as it stands when the command runs, and says what it applied to.

Teaching writes the topic's YAML file and loads the edited knowledge base here, to say how the
bot now reads the question; a running server picks the edit up at its next check
(`reload_seconds`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from dataclasses import dataclass

import click

from bot.bundle import Bundle
from bot.cases.dates import VN_TZ
from bot.cli_common import actor, cli_settings, store_run
from bot.config import Settings
from bot.knowledge import KnowledgeError, load
from bot.model_cache import model_cache
from bot.models.review import MissKind
from bot.staff.review import (
    OUT_OF_SCOPE_TOPIC,
    Action,
    Decision,
    Inbox,
    MissGroup,
    Outcome,
    Result,
    ReviewDesk,
    inbox,
)
from bot.store import Store

ADDRESS = "cli"  # where the decision came from, in the audit log (the dashboard: an IP)


@click.group(invoke_without_command=True)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in MissKind]),
    help="Only groups holding misses of this kind.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Print at most this many groups.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group and line.")
@click.pass_context
def review(ctx: click.Context, kind: str | None, limit: int, as_json: bool) -> None:
    """The review inbox: questions the bot did not answer outright (not understood, asked back,
    handed to staff, rated 👎), similar ones grouped, the most frequent first.

    Each group shows its number, count, kinds, channels, when last asked, example wordings and
    the matcher's guess; act on it by its number (or key) with the subcommands.

    \b
    Examples:
      bot review
      bot review --kind rated_down --limit 5
      bot review --json
      bot review teach 1 khai-sinh
      bot review out-of-scope 2 --as lan
      bot review dismiss 3
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = cli_settings(ctx.obj)
    snapshot = store_run(settings, inbox)
    numbered = [
        (n, g)
        for n, g in enumerate(snapshot.groups, start=1)
        if kind is None or kind in dict(g.kinds)
    ][:limit]
    if as_json:
        for n, group in numbered:
            click.echo(json.dumps(_json(n, group), ensure_ascii=False))
        return
    if not numbered:
        click.echo("No open questions to review." if kind is None else f"No {kind} groups.")
        return
    click.echo(
        f"{len(snapshot.groups)} groups from {snapshot.misses} open questions,"
        " most frequent first (times UTC+7):"
    )
    for n, group in numbered:
        click.echo("")
        click.echo(_text(n, group))
    click.echo("")
    click.echo(
        "Act on a group: bot review teach N TOPIC | bot review out-of-scope N"
        " | bot review dismiss N"
    )


def _when(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, VN_TZ)


def _counts(pairs: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{name} {n}" for name, n in pairs)


def _text(n: int, group: MissGroup) -> str:
    when = _when(group.last_seen).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"#{n}  {group.count} × «{group.example}»",
        f"    kinds: {_counts(group.kinds)}; channels: {_counts(group.channels)}; last: {when}",
    ]
    others = [e for e in group.examples if e != group.example]
    if others:
        lines.append("    also: " + ", ".join(f"«{e}»" for e in others))
    guess = group.guess or "(none)"
    weighed = f" (weighed: {', '.join(group.candidates)})" if group.candidates else ""
    lines.append(f"    guess: {guess}{weighed}")
    lines.append(f"    key: {group.key}")
    return "\n".join(lines)


def _json(n: int, group: MissGroup) -> dict[str, object]:
    return {
        "group": n,
        "key": group.key,
        "count": group.count,
        "kinds": dict(group.kinds),
        "channels": dict(group.channels),
        "examples": list(group.examples or (group.example,)),
        "guess": group.guess,
        "candidates": list(group.candidates),
        "wordings": group.wordings,
        "last_seen": _when(group.last_seen).isoformat(timespec="seconds"),
    }


# -- decisions ---------------------------------------------------------------------------


_AS = click.option("--as", "as_name", help="Who decided, for the audit log (default: the OS user).")


@review.command(name="teach")
@click.argument("group")
@click.argument("topic")
@_AS
@click.pass_obj
def teach(config: str | None, group: str, topic: str, as_name: str | None) -> None:
    """Add GROUP's example as a phrasing of TOPIC (a topic id, the file's name).

    \b
    Example:
      bot review teach 1 khai-sinh
    """
    _decide(config, group, Action.TEACH, topic, as_name)


@review.command(name="out-of-scope")
@click.argument("group")
@_AS
@click.pass_obj
def out_of_scope(config: str | None, group: str, as_name: str | None) -> None:
    """Add GROUP's example as a phrasing of ngoai-pham-vi: the bot then says it is not ours.

    \b
    Example:
      bot review out-of-scope 2
    """
    _decide(config, group, Action.OUT_OF_SCOPE, "", as_name)


@review.command(name="dismiss")
@click.argument("group")
@_AS
@click.pass_obj
def dismiss(config: str | None, group: str, as_name: str | None) -> None:
    """Hide GROUP from the inbox (asked again, it stays hidden).

    \b
    Example:
      bot review dismiss 3 --as lan
    """
    _decide(config, group, Action.DISMISS, "", as_name)


@dataclass(frozen=True, slots=True)
class _Done:
    group: MissGroup
    outcome: Outcome


def _find(snapshot: Inbox, name: str) -> MissGroup | None:
    """The group numbered `name` in the listing, or keyed `name`."""
    if name.isdigit() and 1 <= int(name) <= len(snapshot.groups):
        return snapshot.groups[int(name) - 1]
    key = " ".join(name.split())
    return next((g for g in snapshot.groups if g.key == key), None)


def _decide(config: str | None, name: str, action: Action, topic: str, as_name: str | None) -> None:
    settings = cli_settings(config)
    root = settings.knowledge_path()
    try:
        topics = list(load(root)[0].topics)
    except KnowledgeError as exc:
        raise click.ClickException(
            f"the knowledge base at {root} has errors:\n{exc}\nHint: run `bot kb check {root}`"
        ) from exc
    who = (as_name or "").strip() or actor()

    async def job(store: Store) -> _Done | None:
        snapshot = await inbox(store)
        group = _find(snapshot, name)
        if group is None:
            return None
        desk = ReviewDesk(store, root, lambda: _reload(settings), lambda: topics)
        decision = Decision(group.key, snapshot.upto, group.count, action, topic)
        return _Done(group, await desk.decide(decision, who, ADDRESS, time.time()))

    done = store_run(settings, job)
    if done is None:
        raise click.ClickException(
            f"no group {name!r} in the review inbox\nHint: run `bot review` for the numbers"
        )
    click.echo(_report(action, done, settings, topic))


async def _reload(settings: Settings) -> Bundle:
    """The knowledge base as edited, loaded the way the server loads it."""
    return await asyncio.to_thread(
        Bundle.load,
        settings.knowledge_path(),
        settings.matcher,
        settings.idle_seconds,
        model_cache(settings),
    )


def _report(action: Action, done: _Done, settings: Settings, topic: str) -> str:
    """What was done, or a ClickException saying why nothing was."""
    group, outcome = done.group, done.outcome
    what = f"«{group.example}» ({group.count} question{'' if group.count == 1 else 's'})"
    if outcome.result is Result.STALE:
        raise click.ClickException(
            f"{what} changed while deciding; nothing was changed\nHint: run `bot review` again"
        )
    if outcome.result is Result.NO_TOPIC:
        raise click.ClickException(
            f"unknown topic {topic!r}; nothing was changed\n"
            "Hint: a topic id is a file name under knowledge/, e.g. khai-sinh"
        )
    if outcome.result is Result.INVALID:
        reasons = "\n".join(f"  {r}" for r in outcome.reasons)
        raise click.ClickException(f"{what} was not added; nothing was changed:\n{reasons}")
    if action is Action.DISMISS:
        return f"Dismissed {what}."
    target = outcome.topic if action is Action.TEACH else OUT_OF_SCOPE_TOPIC
    lines = [f"Added {what} as a phrasing of {target}."]
    if outcome.version is None:
        lines.append("The edited knowledge base did not load:")
        lines.extend(f"  {r}" for r in outcome.reasons)
    else:
        answered = outcome.answered_as or "(not understood)"
        lines.append(f"The bot now answers it as {answered} (knowledge {outcome.version}).")
        if outcome.answered_as != target:
            lines.append("Hint: add more phrasings or key terms to that topic.")
        if settings.reload_seconds > 0:
            lines.append(
                f"A running server picks the edit up within {settings.reload_seconds:g} s"
                " (reload_seconds)."
            )
        else:
            lines.append("reload_seconds is 0: restart a running server to apply it.")
    return "\n".join(lines)
