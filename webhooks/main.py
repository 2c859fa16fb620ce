"""The `bot` command as installed: the core's commands (bot.cli) plus `serve`.

bot/ never imports webhooks/, so the one command that needs the edge is attached to the core's
click group here, and the console script points at this module.
"""

from __future__ import annotations

import click

from bot.cli import cli
from bot.cli_common import cli_settings
from bot.knowledge import KnowledgeError
from webhooks.serve import run


@cli.command()
@click.pass_obj
def serve(config: str | None) -> None:
    """Run the webhook server, the web chat (/chat) and the delivery worker.

    With no platform secrets in the environment only the web chat is enabled.

    \b
    Examples:
      bot serve                      # http://127.0.0.1:8080/chat
      BOT_PORT=9000 bot serve
    """
    settings = cli_settings(config)
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
