"""Plugins come from installed distributions' ``crm_bridge.plugins`` entry points: the
Office service from this package's own, a fake distribution made here at test time, and
broken ones that are skipped with their reason while the bridge serves on."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.plugins import GROUP, installed
from tests.conftest import make_settings, start_bridge

FAKE_MODULE = '''
from fastapi import APIRouter


class Fake:
    def mount(self, app, settings):
        router = APIRouter()

        @router.get("/fake/hello")
        def hello():
            return {"hello": "from a plugin", "public_url": settings.public_url}

        app.include_router(router)


plugin = Fake()


class NoMount:
    pass


no_mount = NoMount()


class Fails:
    def mount(self, app, settings):
        raise RuntimeError("the fake plugin cannot start")


fails = Fails()
'''


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A distribution on sys.path (a module and its dist-info), as pip would install it,
    with four entry points: one that works and three that fail differently."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "crm_fake_plugin.py").write_text(FAKE_MODULE)
    info = site / "crm_fake_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crm-fake-plugin\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(f"""\
        [{GROUP}]
        fake = crm_fake_plugin:plugin
        fake_no_mount = crm_fake_plugin:no_mount
        fake_fails = crm_fake_plugin:fails
        fake_missing = crm_fake_plugin_gone:plugin
        """))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop("crm_fake_plugin", None)


def _health(url: str) -> dict[str, dict[str, object]]:
    body = httpx.get(url + "/api/v1/health").json()
    return {p["name"]: p for p in body["plugins"]}


def test_the_office_plugin_is_found_through_its_installed_entry_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = {ep.name: ep.value for ep in installed()}
    assert names.get("office") == "addin.office.plugin:plugin"
    monkeypatch.setenv("CRM_OFFICE_SESSIONS", str(tmp_path / "sessions"))
    with start_bridge(make_settings("sqlite", tmp_path)) as bridge:
        plugins = _health(bridge.url)
        assert plugins["office"]["loaded"] is True and plugins["office"]["reason"] is None
        # /office/ and /api/v1/ on the same port
        assert httpx.get(bridge.url + "/office/manifest.xml").status_code == 200
        me = httpx.get(bridge.url + "/api/v1/me",
                       headers={"Authorization": f"Bearer {bridge.admin_token}"})
        assert me.json()["user"]["username"] == "admin"


def test_a_fake_distribution_is_mounted_and_broken_ones_are_skipped_with_their_reason(
        fake_distribution: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_OFFICE_SESSIONS", str(tmp_path / "sessions"))
    settings = make_settings("sqlite", tmp_path, public_url="https://crm.example.com")
    with start_bridge(settings) as bridge:
        got = httpx.get(bridge.url + "/fake/hello").json()
        assert got == {"hello": "from a plugin", "public_url": "https://crm.example.com"}
        plugins = _health(bridge.url)
        assert plugins["fake"]["loaded"] is True
        assert plugins["office"]["loaded"] is True
        assert plugins["fake_no_mount"]["loaded"] is False
        assert "has no mount" in str(plugins["fake_no_mount"]["reason"])
        assert plugins["fake_fails"]["reason"] == "RuntimeError: the fake plugin cannot start"
        assert str(plugins["fake_missing"]["reason"]).startswith("ModuleNotFoundError")
        assert httpx.get(bridge.url + "/api/v1/health").status_code == 200


@pytest.mark.parametrize(("choice", "loaded", "absent"), [
    ("none", set(), {"fake", "office"}),
    ("fake", {"fake"}, {"office"}),
    ("office, fake", {"fake", "office"}, set()),
])
def test_crm_plugins_chooses_which_plugins_load(
        fake_distribution: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        choice: str, loaded: set[str], absent: set[str]) -> None:
    monkeypatch.setenv("CRM_OFFICE_SESSIONS", str(tmp_path / "sessions"))
    with start_bridge(make_settings("sqlite", tmp_path, plugins=choice)) as bridge:
        plugins = _health(bridge.url)
        assert {n for n, p in plugins.items() if p["loaded"]} == loaded
        for name in absent:
            assert plugins[name]["reason"] == "not chosen by CRM_PLUGINS"
        office = httpx.get(bridge.url + "/office/manifest.xml")
        assert office.status_code == (200 if "office" in loaded else 404)


def test_a_named_plugin_that_is_not_installed_is_listed_as_such(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "office,nosuch")
    monkeypatch.setenv("CRM_OFFICE_SESSIONS", str(tmp_path / "sessions"))
    settings = make_settings("sqlite", tmp_path)
    assert settings.plugins == "office,nosuch"
    with start_bridge(settings) as bridge:
        plugins = _health(bridge.url)
        assert plugins["nosuch"] == {"name": "nosuch", "target": "", "loaded": False,
                                     "reason": "not installed"}
        assert plugins["office"]["loaded"] is True
