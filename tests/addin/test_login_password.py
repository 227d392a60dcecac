"""``crm-sheet login --user``: the password is asked (not shown) or read from stdin,
exchanged for a token against a live bridge and kept like a pasted one; a wrong password
and a throttled sign-in end with exit 3 and the bridge's message, without retrying; with no
credential store the message says what to do instead (exit 3, no traceback)."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from typer.testing import CliRunner

from addin.cli import app
from addin.client import BridgeClient, BridgeError, RetryInfo
from addin.credentials import load_token
from addin.port_openpyxl import OpenpyxlPort
from bridge.passwords import set_password
from tests.addin.conftest import MemoryKeyring, new_workbook
from tests.conftest import LiveBridge, make_settings, start_bridge

runner = CliRunner()
PASSWORD = "correct horse battery"


def with_password(lb: LiveBridge, username: str) -> None:
    lb.make_user(username, "sales", "t1", "east")
    with lb.db.write() as conn:
        set_password(lb.db, conn, username, PASSWORD)


def test_login_with_a_password_typed_at_the_prompt(live_bridge: LiveBridge,
                                                   memory_keyring: MemoryKeyring) -> None:
    with_password(live_bridge, "amy")
    res = runner.invoke(app, ["login", "--server", live_bridge.url, "--user", "amy"],
                        input=f"{PASSWORD}\n")
    assert res.exit_code == 0, res.output
    assert PASSWORD not in res.output and "amy" in res.output
    token = load_token(live_bridge.url)
    assert token and token.startswith("crm_")
    with BridgeClient(live_bridge.url, token) as client:
        assert client.me().user.username == "amy"


def test_login_a_workbook_with_a_password_from_stdin(live_bridge: LiveBridge,
                                                     tmp_path: Path) -> None:
    with_password(live_bridge, "amy")
    book = new_workbook(tmp_path / "book.xlsx", "en")
    res = runner.invoke(app, ["login", str(book), "--server", live_bridge.url, "--user", "amy",
                              "--password-stdin", "--days", "3"], input=f"{PASSWORD}\n")
    assert res.exit_code == 0, res.output
    meta = OpenpyxlPort.open(book).read_meta()
    assert meta["user"] == "amy" and meta["server_url"] == live_bridge.url
    assert PASSWORD not in (tmp_path / "book.xlsx").read_bytes().decode("latin-1")


def test_a_wrong_password_exits_3_with_the_bridge_message(live_bridge: LiveBridge) -> None:
    with_password(live_bridge, "amy")
    for user in ("amy", "nobody_here"):
        res = runner.invoke(app, ["login", "--server", live_bridge.url, "--user", user,
                                  "--password-stdin", "--lang", "en"], input="wrong guess\n")
        assert res.exit_code == 3, res.output
        assert "SIGNIN_FAILED" in res.output and "Wrong user name or password" in res.output
        assert "Traceback" not in res.output
    assert load_token(live_bridge.url) is None


def test_a_throttled_sign_in_is_not_retried(tmp_path: Path) -> None:
    settings = make_settings("sqlite", tmp_path, signin_failures=2)
    with start_bridge(settings) as lb:
        with_password(lb, "amy")
        retries: list[RetryInfo] = []
        with BridgeClient(lb.url, "", on_retry=retries.append) as client:
            for _ in range(2):
                with pytest.raises(BridgeError) as wrong:
                    client.exchange_password("amy", "guess")
                assert wrong.value.code == "SIGNIN_FAILED" and wrong.value.status == 401
            with pytest.raises(BridgeError) as throttled:
                client.exchange_password("amy", PASSWORD)
        assert throttled.value.code == "SIGNIN_THROTTLED" and throttled.value.status == 429
        assert "15 分钟" in throttled.value.message("zh") and retries == []
        res = runner.invoke(app, ["login", "--server", lb.url, "--user", "amy",
                                  "--password-stdin", "--lang", "zh"], input=f"{PASSWORD}\n")
        assert res.exit_code == 3 and "SIGNIN_THROTTLED" in res.output, res.output


def test_no_credential_store_after_a_password_sign_in(live_bridge: LiveBridge) -> None:
    with_password(live_bridge, "amy")
    keyring.set_keyring(fail.Keyring())  # the autouse fixture puts the previous one back
    res = runner.invoke(app, ["login", "--server", live_bridge.url, "--user", "amy",
                              "--password-stdin", "--lang", "en"], input=f"{PASSWORD}\n")
    assert res.exit_code == 3, res.output
    assert "CREDENTIAL_STORE_UNAVAILABLE" in res.output and "CRM_TOKEN" in res.output
    assert "Traceback" not in res.output
