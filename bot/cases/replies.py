"""What the citizen reads about a dossier: its status in plain words and the answer to a
verified lookup (the notice to subscribers adds a header: `case_notices`).

Pure: (knowledge base, case, language, office date) -> replies. On time or late is told in
working days (bot/workdays.py), as the clerks' digest and `bot report cases` count them. The
texts come from bot.yaml (`case_*` keys, Vietnamese and English). The phone number never
appears and the owner's name is the masked one. Every reply is split to the platforms' limit
and ends with the menu and staff buttons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from bot.answers import HANDOFF, MENU, split_text
from bot.cases.dates import days_late, format_date
from bot.knowledge import KnowledgeBase
from bot.models import CLOSED, FINISHED, SUBSCRIBE, Case, CaseStatus, Lang, QuickReply, Reply
from bot.workdays import working_days_between


def procedure_name(kb: KnowledgeBase, case: Case, lang: Lang) -> str:
    topic = kb.topics.get(case.topic or "")
    return topic.name.get(lang) if topic else case.procedure


def _timing(t: Callable[[str], str], case: Case, today: dt.date) -> str | None:
    """On time or late, counted in working days (bot/workdays.py: weekends and public holidays,
    Tết included, skipped), the rule of the clerks' digest and `bot report cases`."""
    if case.due is None or case.status in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
        return None
    due = format_date(case.due)
    if case.status in FINISHED:
        late = days_late(case, today)
        if late is None:
            return None
        if not late:
            return t("case_done_on_time").format(due=due)
        days = working_days_between(case.due, case.returned or today)
        key = "case_done_late" if days else "case_done_late_short"
        return t(key).format(days=days, due=due)
    if case.status is CaseStatus.SUPPLEMENT:
        return None  # the time limit waits for the papers
    if today == case.due:
        return t("case_due_today")
    if today < case.due:
        days = working_days_between(today, case.due)
        return t("case_in_time" if days else "case_in_time_short").format(days=days, due=due)
    days = working_days_between(case.due, today)
    return t("case_late" if days else "case_late_short").format(days=days, due=due)


def _next_step(t: Callable[[str], str], case: Case) -> str | None:
    unit = case.unit or t("case_where_filed")
    if case.status is CaseStatus.SUPPLEMENT:
        if case.note:
            return t("case_next_supplement").format(note=case.note.rstrip(". "), unit=unit)
        return t("case_next_supplement_ask").format(unit=unit)
    if case.status is CaseStatus.READY:
        return t("case_next_ready").format(unit=unit)
    if case.status is CaseStatus.RETURNED:
        returned = format_date(case.returned)
        return t("case_next_returned").format(date=returned) if returned else None
    if case.status in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
        return t("case_next_rejected").format(unit=unit)
    return t("case_next_wait")


def case_text(kb: KnowledgeBase, case: Case, lang: Lang, today: dt.date) -> str:
    """The dossier's status in plain words. The phone number never appears; the name masked."""

    def t(key: str) -> str:
        return kb.texts.get(key, lang)

    unknown = t("case_unknown")
    details = t("case_details").format(
        code=case.code,
        owner=case.owner_masked or unknown,
        procedure=procedure_name(kb, case, lang) or unknown,
        status=t(f"case_status_{case.status.value}"),
        received=format_date(case.received) or unknown,
        due=format_date(case.due) or unknown,
    )
    blocks = [details]
    timing = _timing(t, case, today)
    if timing:
        blocks.append(timing)
    step = _next_step(t, case)
    if step:
        blocks.append(step)
    if case.note and case.status is not CaseStatus.SUPPLEMENT:
        blocks.append(t("case_note").format(note=case.note))
    return "\n\n".join(blocks)


def _common(kb: KnowledgeBase, lang: Lang) -> list[QuickReply]:
    return [
        QuickReply(kb.texts.get("menu_button", lang), MENU),
        QuickReply(kb.texts.get("staff_button", lang), HANDOFF),
    ]


def replies(
    kb: KnowledgeBase, text: str, lang: Lang, quick: Sequence[QuickReply] = ()
) -> list[Reply]:
    """`text` split to the platforms' limit, the quick replies (then menu, staff) on the last."""
    parts = split_text(text)
    out = [Reply(p) for p in parts[:-1]]
    out.append(Reply(parts[-1], (*quick, *_common(kb, lang))))
    return out


def case_replies(kb: KnowledgeBase, case: Case, lang: Lang, today: dt.date) -> list[Reply]:
    """The answer to a verified lookup, offering "notify me" while the dossier is open."""
    text = case_text(kb, case, lang, today)
    quick: list[QuickReply] = []
    if case.status not in CLOSED:
        text = f"{text}\n\n{kb.texts.get('case_subscribe_offer', lang)}"
        button = kb.texts.get("case_subscribe_button", lang)
        quick.append(QuickReply(button, f"{SUBSCRIBE}:{case.code}"))
    return replies(kb, text, lang, quick)
