"""Where a turn's requests meet the store: the dialog stays pure, this carries them out."""

from __future__ import annotations

from bot.cases.actions import lookup
from bot.dialog import Dialog, Turn
from bot.models import Incoming
from bot.store import Store


async def resolve_turn(
    store: Store, dialog: Dialog, msg: Incoming, turn: Turn, now_ms: int
) -> Turn:
    """Carry out what a turn asked of the store (a lookup, a subscription) and return the turn
    the citizen gets."""
    if turn.lookup is not None:
        result = await lookup(store, msg.platform, msg.user_id, turn.lookup)
        turn = dialog.resolve_lookup(turn, result, now_ms)
    if turn.subscribe is not None:
        await store.subscribe(msg.platform, msg.user_id, turn.subscribe, turn.state.lang)
    return turn
