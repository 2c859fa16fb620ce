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


class TokenRefreshError(WebhookError):
    """A Zalo OAuth refresh failed and no new token pair was obtained.

    `retryable` is True for transport failures and 5xx answers. Beware: Zalo refresh tokens are
    single use (platforms.md §3.6); after a transport failure the old refresh token may already
    be spent, in which case the retry fails permanently and an OA admin must grant access again.
    `code` is Zalo's numeric error code when the answer carried one.
    """

    def __init__(self, message: str, *, retryable: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
