"""Which aspect of a procedure a message asks about, independent of the procedure itself.

"phí làm giấy khai sinh" and "còn lệ phí thì sao?" both ask for the fee; the topic comes from the
matcher or, for the second, from the conversation. Pure data and one pure function.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import tokens

# Phrases are written naturally and normalised with the same pipeline as messages.
_FACET_PHRASES: dict[str, tuple[str, ...]] = {
    "fee": (
        "lệ phí",
        "phí",
        "bao nhiêu tiền",
        "mất tiền",
        "tốn tiền",
        "tốn kém",
        "chi phí",
        "miễn phí",
        "nộp tiền",
        "tính tiền",
        "giá",
        "hết bao nhiêu",
        "mấy tiền",
        "nhiêu tiền",
        "tiền",
        "fee",
        "fees",
        "cost",
        "costs",
        "how much",
        "price",
        "charge",
        "pay",
        "free",
    ),
    "time": (
        "bao lâu",
        "mấy ngày",
        "bao nhiêu ngày",
        "thời gian",
        "thời hạn",
        "khi nào",
        "bao giờ",
        "lấy ngay",
        "trong ngày",
        "mấy hôm",
        "mấy tuần",
        "trong vòng",
        "hạn chót",
        "quá hạn",
        "kịp không",
        "nhanh không",
        "ngày làm việc",
        "hẹn trả",
        "how long",
        "how many days",
        "deadline",
        "when",
        "time limit",
        "processing time",
    ),
    "documents": (
        "giấy tờ",
        "giấy tờ gì",
        "cần gì",
        "cần những gì",
        "những gì",
        "gồm những gì",
        "hồ sơ gồm",
        "chuẩn bị",
        "mang theo",
        "cần mang",
        "bản gốc",
        "tờ khai",
        "thành phần hồ sơ",
        "cần giấy",
        "hồ sơ cần",
        "documents",
        "document",
        "papers",
        "requirements",
        "what do i need",
        "bring",
        "required",
    ),
    "where": (
        "ở đâu",
        "nơi nào",
        "chỗ nào",
        "ra đâu",
        "tại đâu",
        "cơ quan nào",
        "xã nào",
        "địa chỉ",
        "nộp ở",
        "làm ở",
        "chỗ nào",
        "lên sở",
        "ra xã",
        "where",
        "which office",
        "address",
    ),
    "online": (
        "trực tuyến",
        "online",
        "qua mạng",
        "dịch vụ công",
        "vneid",
        "trên mạng",
        "internet",
        "website",
        "cổng dịch vụ công",
        "không cần đến",
        "tại nhà",
    ),
    "who": (
        "ủy quyền",
        "nhờ người",
        "làm thay",
        "làm hộ",
        "người khác",
        "ai được",
        "ai có thể",
        "ai phải",
        "đối tượng",
        "điều kiện",
        "có được không",
        "on behalf",
        "authorize",
        "authorise",
        "who can",
        "eligible",
        "thay được",
    ),
}


def _compile() -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}
    for facet, phrases in _FACET_PHRASES.items():
        for phrase in phrases:
            table.setdefault(tokens(phrase), facet)
    return table


_TABLE = _compile()
_MAX_LEN = max(len(k) for k in _TABLE)
# The words a facet's phrase starts with: the others are stepped over without a look-up.
_HEADS = frozenset(k[0] for k in _TABLE)


def detect_facets(toks: Sequence[str]) -> tuple[str, ...]:
    """Facets asked in a normalised token sequence, in order of mention (longest match first)."""
    found: list[str] = []
    i = 0
    while i < len(toks):
        if toks[i] not in _HEADS:
            i += 1
            continue
        for n in range(min(_MAX_LEN, len(toks) - i), 0, -1):
            facet = _TABLE.get(tuple(toks[i : i + n]))
            if facet is not None:
                if facet not in found:
                    found.append(facet)
                i += n
                break
        else:
            i += 1
    return tuple(found)
