import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from webhooks.serve import AccessLogger


@pytest.mark.parametrize(
    ("method", "path", "status", "seconds", "logged"),
    [
        ("POST", "/webhooks/facebook", 200, 0.01, False),  # a delivery: recorded in the store
        ("POST", "/webhooks/zalo", 200, 0.01, False),
        ("POST", "/webhooks/facebook", 403, 0.01, True),  # a refusal is always worth a line
        ("POST", "/webhooks/facebook", 200, 2.0, True),  # so is a slow answer
        ("GET", "/webhooks/facebook?hub.verify_token=secret", 200, 0.01, True),
        ("GET", "/healthz", 200, 0.01, True),
    ],
)
def test_access_log(
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    status: int,
    seconds: float,
    logged: bool,
) -> None:
    logger = logging.getLogger("test.access")
    request = make_mocked_request(method, path)
    with caplog.at_level(logging.INFO, logger="test.access"):
        AccessLogger(logger, "").log(request, web.Response(status=status), seconds)
    assert bool(caplog.records) is logged
    assert all("secret" not in r.getMessage() for r in caplog.records)


def test_new_loop_prefers_uvloop_when_installed() -> None:
    from webhooks.serve import new_loop

    loop = new_loop()
    try:
        uvloop = pytest.importorskip("uvloop")
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_serve_refuses_a_broken_knowledge_base_with_a_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from webhooks.main import cli

    result = CliRunner().invoke(
        cli, ["serve"], env={"BOT_KNOWLEDGE": str(tmp_path), "BOT_DB": str(tmp_path / "x.db")}
    )
    assert result.exit_code == 1
    assert "Hint: run `bot kb check`" in result.output
