"""Named exceptions raised at the edge (webhooks/), so callers catch exactly what they mean.

Messages never contain a token or a secret: they may be logged as they are.
"""

from __future__ import annotations


class WebhookError(Exception):
    """Base class of every error raised by the platform modules."""


class PayloadError(WebhookError, ValueError):
    """A webhook body is not JSON, not a JSON object, or not shaped as the platform documents.

    The HTTP boundary answers 400 and logs it; it is never a reason to answer 5xx (a 5xx makes
    the platform retry the same bad body for hours, platforms.md §1.4 and §3.1).
    """
