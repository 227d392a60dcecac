"""Signing in on a machine without a credential store: a bilingual message and exit 3, and
the documented fallbacks (``CRM_TOKEN``, ``CRM_TOKEN_FILE``) work."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from typer.testing import CliRunner

from addin import credentials
from addin.cli import app
from addin.port import AddinError
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import new_workbook
from tests.conftest import LiveBridge

runner = CliRunner()


@pytest.fixture
def no_keyring() -> None:
    """The backend keyring picks on a machine with none (raises ``NoKeyringError``)."""
    keyring.set_keyring(fail.Keyring())  # the autouse memory keyring restores its own


def test_login_without_a_keyring_exits_3_with_both_messages(
        live_bridge: LiveBridge, no_keyring: None) -> None:
    out = runner.invoke(app, ["login", "--server", live_bridge.url,
                              "--token", live_bridge.admin_token])
    assert out.exit_code == 3, out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)
    text = " ".join(out.output.split())
    assert "CREDENTIAL_STORE_UNAVAILABLE" in text
    assert "CRM_TOKEN_FILE" in text and "系统凭据存储" in text


def test_login_into_a_workbook_without_a_keyring_exits_3(
        live_bridge: LiveBridge, no_keyring: None, tmp_path: Path) -> None:
    book = new_workbook(tmp_path / "book.xlsm", "en")
    out = runner.invoke(app, ["login", str(book), "--server", live_bridge.url,
                              "--token", live_bridge.admin_token])
    assert out.exit_code == 3, out.output
    assert "no system credential store" in " ".join(out.output.split())


def test_a_token_file_only_its_owner_reads_is_the_fallback(
        live_bridge: LiveBridge, no_keyring: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(live_bridge.admin_token + "\n", encoding="utf-8")
    os.chmod(token_file, 0o600)
    monkeypatch.setenv("CRM_TOKEN_FILE", str(token_file))
    book = tmp_path / "book.xlsm"
    assert runner.invoke(app, ["new", str(book), "--lang", "en",
                               "--server", live_bridge.url]).exit_code == 0
    out = runner.invoke(app, ["pull", str(book)])
    assert out.exit_code == 0, out.output
    assert OpenpyxlPort.open(book).read_meta().get("cursor") not in (None, "")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_token_file_others_can_read_is_refused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("crm_secret", encoding="utf-8")
    os.chmod(token_file, 0o644)
    monkeypatch.setenv("CRM_TOKEN_FILE", str(token_file))
    with pytest.raises(AddinError) as e:
        credentials.load_token("https://crm.example.com")
    assert e.value.code == "TOKEN_FILE_UNUSABLE" and "chmod 600" in e.value.message_en
    monkeypatch.setenv("CRM_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(AddinError) as e:
        credentials.load_token("https://crm.example.com")
    assert e.value.code == "TOKEN_FILE_UNUSABLE"


def test_login_keeps_the_token_in_a_file_only_its_owner_reads(
        live_bridge: LiveBridge, no_keyring: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a keyring, ``--token-file`` keeps the token (mode 600) and CRM_TOKEN_FILE
    then signs every command in."""
    where = tmp_path / "secret" / "crm-token"
    out = runner.invoke(app, ["login", "--server", live_bridge.url, "--token",
                              live_bridge.admin_token, "--token-file", str(where)])
    assert out.exit_code == 0, out.output
    assert where.read_text(encoding="utf-8").strip() == live_bridge.admin_token
    if os.name == "posix":
        assert where.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(credentials.ENV_TOKEN_FILE, str(where))
    assert credentials.load_token(live_bridge.url) == live_bridge.admin_token
