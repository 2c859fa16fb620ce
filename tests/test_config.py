from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings, setting_docs
from tests.conftest import ROOT


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, env, _, _ in setting_docs():
        assert f"`{name}`" in readme
        if env:
            assert f"`{env}`" in readme


def test_config_yaml_holds_every_non_secret_setting_with_its_default() -> None:
    settings = load_settings(ROOT / "config.yaml", environ={})
    assert settings == Settings()


def test_environment_overrides_and_types(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"BOT_PORT": "9001", "BOT_DB": str(tmp_path / "x.db")})
    assert settings.port == 9001 and settings.db_path() == tmp_path / "x.db"
    assert not settings.facebook_enabled and not settings.zalo_enabled


def test_half_configured_platform_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="FB_PAGE_ACCESS_TOKEN"):
        load_settings(None, environ={"FB_APP_SECRET": "s", "FB_VERIFY_TOKEN": "v"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("port: [1]", "port"),
        ("colour: blue", "unknown setting"),
        ("fb_app_secret: abc", "is a secret"),
        ("- a list", "mapping"),
        ("body_timeout_seconds: 0", "body_timeout_seconds must be above 0"),
    ],
)
def test_bad_config_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})


def test_secrets_are_not_printed() -> None:
    environ = {"FB_APP_SECRET": "hunter2", "FB_VERIFY_TOKEN": "v", "FB_PAGE_ACCESS_TOKEN": "t"}
    described = load_settings(None, environ=environ).describe()
    assert described["fb_app_secret"] == "(set)" and "hunter2" not in str(described)


def test_admin_token_is_not_a_setting_and_a_leftover_one_is_said_unused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The dashboard has staff accounts (`bot staff add`); no shared token opens anything.
    settings = load_settings(None, environ={"ADMIN_TOKEN": "hunter2"})
    assert "admin_token" not in settings.describe()
    assert "ADMIN_TOKEN is set but not used" in caplog.text and "hunter2" not in caplog.text


def test_rating_every_cannot_be_negative(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("rating_every: -1", encoding="utf-8")
    with pytest.raises(ConfigError, match="rating_every must not be negative"):
        load_settings(path, environ={})
    path.write_text("rating_every: 0", encoding="utf-8")
    assert load_settings(path, environ={}).rating_every == 0
