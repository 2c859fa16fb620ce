"""Turns: what happens to a recorded message until its replies are in the outbox.

- `queue`: the turn queue (one FIFO per sender, a few workers, the error boundary of a message);
- `resolve`: a turn's requests (a dossier lookup, a subscription) carried out against the store;
- `flood`: per-sender flood control; `pacer`: the dialogs paced behind the webhooks' 200s.

Not HTTP: the edge only records and acknowledges, then hands messages to the queue.
"""
