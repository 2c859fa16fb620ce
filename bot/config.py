"""Settings: read once from config.yaml plus the environment, validated, then passed down.

Secrets never live in config.yaml; they come from the environment only. Nothing else in the
code reads os.environ (style.md §10). Each setting has a default and one line of help, and
tests/test_config.py fails when one is missing from the README.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from bot.models.privacy import DAY, HOUR, Retention
from bot.models.staff import StaffPolicy

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# An environment variable of early designs (a shared dashboard token); nothing reads it.
RETIRED_TOKEN = "ADMIN_TOKEN"
_GROUP_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_CLOCK_TIME = re.compile(r"(?:[01]?\d|2[0-3]):[0-5]\d")
MIN_MESSAGE_HOURS = 48  # platforms.md §1.4: Meta retries for 36 h, dedup "with TTL ≥ 48 h"


class ConfigError(Exception):
    """A setting is missing, malformed or inconsistent."""


def _s(default: Any, help: str, env: str | None = None, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "env": env, "secret": secret})


@dataclass(frozen=True, slots=True)
class MatcherSettings:
    """Thresholds on the raw score scale (a keyword of weight 5 scores 5)."""

    accept: float = 4.0
    margin: float = 1.0
    # An English message needs a wider lead: the knowledge base holds far fewer English
    # phrasings and terms, and a close English call was more often wrong. Over the tuning,
    # facts, English and solstice sets (in scope + refused - 2 x confident wrong) 1.0: 2,596,
    # 1.5: 2,602, 2.0: 2,603, 2.5: 2,615, 3.0: 2,615. At 2.5 (and a procedure's name counted
    # as its own term) confident wrong 85 -> 74 for no line of in scope, and over 5 folds of
    # december + facts + english + solstice 76 -> 68 (2026-12-08). The close calls are asked
    # back instead.
    margin_en: float = 2.5
    clarify: float = 2.5
    anchor: float = 3.0  # an accepted topic needs one key term at least this strong...
    max_candidates: int = 3
    rescore_top: int = 6
    max_gap: int = 2  # words allowed inside a multi-word key term
    learned_weight: float = 6.0  # raw score per unit of the classifier's margin above the floor
    learned_floor: float = -0.5  # classifier margins below this add nothing
    learned_c: float = 1.0  # the linear SVM's regularisation (larger: fits the examples closer)
    learned_term_weight: float = 3.0  # key terms this strong are also examples for the classifier
    learned_variants: int = 4  # generated variants per phrasing the classifier also learns
    # The classifier preferring another topic by this much: ask back. 0.2 (was 0.3): 5 folds of
    # the 2,142 tuning lines, right + refused - 2 x confident wrong 1,949 -> 1,954 (2026-12-07).
    learned_disagree: float = 0.2
    # ...and by this much: its topic is offered first (`Matcher._decide`).
    learned_first: float = 0.5
    background_weight: float = 1.0  # a story's share of the evidence next to its request
    learned_anchor: float = 0.2  # a margin this high anchors a topic like a strong key term


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = _s("127.0.0.1", "Address the server listens on", "BOT_HOST")
    port: int = _s(8080, "Port the server listens on", "BOT_PORT")
    db: str = _s("data/bot.db", "SQLite database file (created if missing)", "BOT_DB")
    knowledge: str = _s("knowledge", "Knowledge base folder", "BOT_KNOWLEDGE")
    cache: str = _s(
        "data/cache",
        "Folder of fitted classifiers kept between loads ('' = fit every time)",
        "BOT_CACHE",
    )
    idle_seconds: int = _s(1800, "A conversation's context is forgotten after this idle time")
    reload_seconds: float = _s(
        5.0, "How often the server looks for knowledge base edits (0: never reload)"
    )
    max_body_bytes: int = _s(1_048_576, "Largest webhook request body accepted")
    header_timeout_seconds: float = _s(
        10.0, "Time a client has to send a request's headers, from connecting or its last answer"
    )
    body_timeout_seconds: float = _s(
        10.0, "Time a client has to send a request's body once its headers are in"
    )
    flood_messages: int = _s(12, "Messages a sender may send per flood window")
    flood_window_seconds: int = _s(60, "Window of the per-sender flood control")
    send_timeout_seconds: float = _s(10.0, "Timeout of one Send API call")
    retry_base_seconds: float = _s(1.0, "First retry delay of the outbox; doubles each attempt")
    retry_max_seconds: float = _s(60.0, "Longest retry delay of the outbox")
    max_attempts: int = _s(8, "Send attempts before a reply is given up")
    fb_sends_per_second: float = _s(
        250.0, "Messenger Send API calls per second we allow ourselves (Meta: 300; 0: no limit)"
    )
    zalo_sends_per_minute: float = _s(
        3600.0, "Zalo OA API calls per minute we allow ourselves (Zalo: 4,000; 0: no limit)"
    )
    match_accept: float = _s(4.0, "Matcher score needed to answer a topic")
    match_margin: float = _s(1.0, "Lead the best topic needs over the second")
    match_clarify: float = _s(2.5, "Matcher score from which the bot asks which topic was meant")
    # Most conversations ask one or two things, so the first answer is the one worth rating;
    # asking again only every third answer keeps the buttons off most replies of a long one.
    rating_every: int = _s(
        3, "Offer 👍 / 👎 after a conversation's 1st topic answer, then every Nth one (0 = off)"
    )
    # Personal data: how long each kind of record is kept (README, "Personal data").
    retain_text_hours: int = _s(24, "Hours the text of an answered message is kept, then blanked")
    retain_message_hours: int = _s(
        72, "Hours an answered message's id is kept against redeliveries (at least 48)"
    )
    retain_state_hours: int = _s(
        24, "Hours a conversation's saved context is kept after its last turn"
    )
    retain_conversation_days: int = _s(
        8, "Days a user's last-contact time is kept (Zalo's reply window is 7)"
    )
    retain_outbox_hours: int = _s(24, "Hours a sent or given-up reply is kept")
    retain_review_days: int = _s(
        90, "Days missed questions (not understood, asked back, handed over) are kept for staff"
    )
    retain_audit_days: int = _s(
        90, "Days dossier lookup audit rows, notice records and expired locks are kept"
    )
    retain_closed_case_days: int = _s(365, "Days a closed dossier is kept after its last change")
    purge_hours: int = _s(24, "Hours between two retention purges by the server")
    fb_app_secret: str = _s(
        "", "Meta app secret: verifies X-Hub-Signature-256", "FB_APP_SECRET", True
    )
    fb_verify_token: str = _s("", "Token Meta echoes in the webhook check", "FB_VERIFY_TOKEN", True)
    fb_page_access_token: str = _s(
        "", "Page access token for the Send API", "FB_PAGE_ACCESS_TOKEN", True
    )
    fb_graph_url: str = _s("https://graph.facebook.com/v25.0", "Graph API base URL", "FB_GRAPH_URL")
    zalo_app_id: str = _s("", "Zalo app id (part of the event signature)", "ZALO_APP_ID")
    zalo_app_secret: str = _s("", "Zalo app secret: token refresh", "ZALO_APP_SECRET", True)
    zalo_oa_secret_key: str = _s(
        "", "Zalo OA secret key: verifies X-ZEvent-Signature", "ZALO_OA_SECRET_KEY", True
    )
    zalo_access_token: str = _s("", "Zalo OA access token", "ZALO_ACCESS_TOKEN", True)
    zalo_refresh_token: str = _s("", "Zalo OA refresh token", "ZALO_REFRESH_TOKEN", True)
    zalo_api_url: str = _s("https://openapi.zalo.me", "Zalo OA API base URL", "ZALO_API_URL")
    zalo_oauth_url: str = _s("https://oauth.zaloapp.com", "Zalo OAuth base URL", "ZALO_OAUTH_URL")
    # Commune clerks (issue 12). YAML: a mapping of group name -> Zalo group id.
    clerk_groups: tuple[tuple[str, str], ...] = _s(
        (), "Zalo groups the OA owns (GMF), by name: `name: group_id` under clerk_groups"
    )
    digest_time: str = _s(
        "07:30", "Local time (Asia/Ho_Chi_Minh) of the clerks' daily deadline digest; '' = off"
    )
    digest_days: int = _s(2, "The digest lists dossiers due within this many working days")
    announce_to: str = _s(
        "", "Targets told of changed procedures after a knowledge reload, e.g. 'all'; '' = off"
    )
    handoff_alert_to: str = _s(
        "", "Targets told when a citizen asks for staff, e.g. 'group:so-tu-phap'; '' = off"
    )
    handoff_remind_minutes: float = _s(
        30.0,
        "Minutes a citizen waits for staff (nobody took the handoff over) before one reminder"
        " goes to handoff_alert_to; 0 = off",
    )
    handoff_timeout_hours: float = _s(
        72.0,
        "Hours a conversation handed to staff stays with them (from its opening or staff's last"
        " reply) before the bot answers again by itself",
    )
    fb_thread_control: bool = _s(
        False, "On a handoff, pass the Messenger thread to the Page Inbox; take it back on close"
    )
    fb_page_inbox_app_id: str = _s(
        "263902037430900", "App id thread control is passed to (Meta's Page Inbox)"
    )
    public_base_url: str = _s(
        "", "The server's public address (https://...), for dashboard links in staff alerts"
    )
    admin_idle_minutes: int = _s(30, "A staff dashboard session ends after this idle time")
    admin_session_hours: int = _s(
        12, "A staff dashboard session ends this long after login, however active"
    )
    admin_login_failures: int = _s(
        5, "Failed logins per name, and per address, before login is refused for a while"
    )
    admin_login_window_minutes: int = _s(15, "Window in which failed staff logins are counted")
    admin_trusted_proxy: bool = _s(
        False, "Trust X-Forwarded-Proto and X-Forwarded-For from a proxy in front (nginx)"
    )

    @property
    def facebook_enabled(self) -> bool:
        return bool(self.fb_app_secret or self.fb_page_access_token or self.fb_verify_token)

    @property
    def zalo_enabled(self) -> bool:
        return bool(self.zalo_oa_secret_key or self.zalo_access_token or self.zalo_app_id)

    @property
    def matcher(self) -> MatcherSettings:
        return dataclasses.replace(
            MatcherSettings(),
            accept=self.match_accept,
            margin=self.match_margin,
            clarify=self.match_clarify,
        )

    @property
    def retention(self) -> Retention:
        return Retention(
            message_text=self.retain_text_hours * HOUR,
            message=self.retain_message_hours * HOUR,
            state=self.retain_state_hours * HOUR,
            conversation=self.retain_conversation_days * DAY,
            outbox=self.retain_outbox_hours * HOUR,
            review=self.retain_review_days * DAY,
            audit=self.retain_audit_days * DAY,
            closed_case=self.retain_closed_case_days * DAY,
            handoff=self.handoff_timeout_hours * HOUR,
        )

    @property
    def staff(self) -> StaffPolicy:
        return StaffPolicy(
            idle_seconds=self.admin_idle_minutes * 60,
            absolute_seconds=self.admin_session_hours * 3600,
            max_failures=self.admin_login_failures,
            window_seconds=self.admin_login_window_minutes * 60,
        )

    def knowledge_path(self) -> Path:
        path = Path(self.knowledge)
        return path if path.is_absolute() else ROOT / path

    def cache_path(self) -> Path | None:
        if not self.cache:
            return None
        path = Path(self.cache)
        return path if path.is_absolute() else ROOT / path

    def db_path(self) -> Path:
        path = Path(self.db)
        return path if path.is_absolute() else ROOT / path

    def check(self) -> None:
        """Fail closed: a platform that is half configured refuses to start (style.md §3)."""
        if self.facebook_enabled:
            missing = [
                n
                for n in ("fb_app_secret", "fb_verify_token", "fb_page_access_token")
                if not getattr(self, n)
            ]
            if missing:
                raise ConfigError(f"Messenger is partly configured; set {_envs(missing)}")
        if self.zalo_enabled:
            missing = [
                n
                for n in ("zalo_app_id", "zalo_oa_secret_key", "zalo_access_token")
                if not getattr(self, n)
            ]
            if missing:
                raise ConfigError(f"Zalo OA is partly configured; set {_envs(missing)}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port out of range: {self.port}")
        for name in ("header_timeout_seconds", "body_timeout_seconds"):
            if not getattr(self, name) > 0:  # 0 would switch aiohttp's deadline off
                raise ConfigError(f"{name} must be above 0")
        self._check_retention()
        for name in ("admin_idle_minutes", "admin_session_hours", "admin_login_failures"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.admin_login_window_minutes <= 0:
            raise ConfigError("admin_login_window_minutes must be positive")
        if self.digest_time and not _CLOCK_TIME.fullmatch(self.digest_time):
            raise ConfigError(f"digest_time must be HH:MM (24 h) or empty: {self.digest_time!r}")
        if not self.handoff_timeout_hours > 0:
            raise ConfigError("handoff_timeout_hours must be above 0")
        if self.fb_thread_control and not self.fb_page_inbox_app_id.strip().isdigit():
            raise ConfigError("fb_page_inbox_app_id must be an app id (digits)")
        if self.rating_every < 0:
            raise ConfigError("rating_every must not be negative (0 turns ratings off)")
        if self.digest_days < 0:
            raise ConfigError("digest_days must not be negative")
        if self.handoff_remind_minutes < 0:
            raise ConfigError("handoff_remind_minutes must not be negative (0 turns it off)")
        for name in ("announce_to", "handoff_alert_to"):
            for target in getattr(self, name).split(","):
                kind = target.partition(":")[0].strip().lower()
                if target.strip() and kind not in ("group", "all", "commune", "clerk"):
                    raise ConfigError(
                        f"{name}: {target.strip()!r}: targets are group:NAME, all,"
                        " commune:NAME or clerk:ID, separated by commas"
                    )
        if self.public_base_url and not self.public_base_url.startswith(("https://", "http://")):
            raise ConfigError(f"public_base_url must start with https://: {self.public_base_url!r}")
        for name, group_id in self.clerk_groups:
            if not _GROUP_NAME.fullmatch(name) or not group_id.strip():
                raise ConfigError(
                    f"clerk_groups: {name!r}: a name of letters, digits, '-' or '_' with a"
                    " Zalo group id"
                )

    def _check_retention(self) -> None:
        """Nothing is kept forever, and nothing so briefly that the bot misbehaves."""
        for f in fields(self):
            if (f.name.startswith("retain_") or f.name == "purge_hours") and getattr(
                self, f.name
            ) <= 0:
                raise ConfigError(f"{f.name} must be positive: nothing is kept forever")
        if self.retain_message_hours < MIN_MESSAGE_HOURS:
            # Messenger redelivers for up to 36 h; keep ids 48 h at least (platforms.md §1.4).
            raise ConfigError(
                f"retain_message_hours must be at least {MIN_MESSAGE_HOURS}: a platform's"
                " redelivery of an older message would be answered twice"
            )
        if self.retain_state_hours * HOUR < self.idle_seconds:
            raise ConfigError(
                "retain_state_hours must cover idle_seconds: a conversation would lose its"
                " context while still going on"
            )

    def describe(self) -> dict[str, Any]:
        """Settings safe to print: secrets shown only as set or not."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = ("(set)" if value else "(not set)") if f.metadata["secret"] else value
        return out


def _envs(names: list[str]) -> str:
    by_name = {f.name: f.metadata["env"] for f in fields(Settings)}
    return ", ".join(by_name[n] or n for n in names)


def setting_docs() -> list[tuple[str, str | None, Any, str]]:
    """(name, environment variable, default, help) for every setting, for the README."""
    return [(f.name, f.metadata["env"], f.default, f.metadata["help"]) for f in fields(Settings)]


def load_settings(
    path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """config.yaml (or `path`) first, then the environment variables named in each field."""
    environ = os.environ if environ is None else environ
    if environ.get(RETIRED_TOKEN):
        # The staff dashboard signs staff in with their own accounts (`bot staff add`); no
        # script API takes a shared token. Said, so nobody believes it protects anything.
        log.warning(
            "%s is set but not used: staff sign in with `bot staff` accounts", RETIRED_TOKEN
        )
    values: dict[str, Any] = {}
    config = Path(path) if path else ROOT / "config.yaml"
    if path or config.is_file():
        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{config}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{config}: must hold a mapping of setting -> value")
        values.update(data)
    by_name = {f.name: f for f in fields(Settings)}
    for name in values:
        if name not in by_name:
            raise ConfigError(f"{config}: unknown setting {name!r}")
        if by_name[name].metadata["secret"] and values[name]:
            raise ConfigError(f"{config}: {name} is a secret: set {by_name[name].metadata['env']}")
    for f in fields(Settings):
        env = f.metadata["env"]
        if env and env in environ:
            values[f.name] = environ[env]
    typed: dict[str, Any] = {}
    for name, value in values.items():
        default: Any = by_name[name].default
        kind: type[Any] = type(default)
        if kind is tuple and isinstance(value, Mapping):  # clerk_groups: name -> group id
            value = tuple((str(k), str(v)) for k, v in value.items())
        try:
            typed[name] = kind(value) if value is not None else default
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"setting {name}: expected {kind.__name__}, got {value!r}") from exc
    settings = Settings(**typed)
    settings.check()
    return settings
