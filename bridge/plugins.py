"""Plugins: objects published by installed distributions under the ``crm_bridge.plugins``
entry point group (datasette's plugin hooks are the model), each with
``mount(app, settings)``. The bridge imports no plugin by name: it finds them here.

A plugin that cannot be loaded or mounted is skipped with its reason in the log and in
``GET /api/v1/health``; the bridge starts anyway. ``CRM_PLUGINS`` chooses: ``all`` (the
default), ``none``, or names (``office,other``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

from bridge.settings import Settings

GROUP = "crm_bridge.plugins"
log = logging.getLogger("crm.bridge.plugins")


class Plugin(Protocol):
    def mount(self, app: Any, settings: Settings) -> None: ...


@dataclass(frozen=True)
class PluginState:
    """What became of one plugin: ``loaded``, or why not (``reason``)."""

    name: str
    target: str  # module:attribute of the entry point
    loaded: bool
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def installed() -> list[EntryPoint]:
    """The entry points of the group, one per name (the first found), by name."""
    seen: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        seen.setdefault(ep.name, ep)
    return [seen[n] for n in sorted(seen)]


def _mount(ep: EntryPoint, app: Any, settings: Settings) -> PluginState:
    try:
        plugin = ep.load()
        mount = getattr(plugin, "mount", None)
        if not callable(mount):
            raise TypeError(f"{ep.value} has no mount(app, settings)")
        mount(app, settings)
    except Exception as exc:  # a broken plugin must not stop the bridge
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("plugin %s (%s) skipped: %s", ep.name, ep.value, reason)
        return PluginState(ep.name, ep.value, False, reason)
    log.info("plugin %s (%s) mounted", ep.name, ep.value)
    return PluginState(ep.name, ep.value, True)


def mount_plugins(app: Any, settings: Settings) -> list[PluginState]:
    """Mount every chosen plugin on ``app``; the state of each, chosen or not."""
    chosen = settings.plugin_choice()
    found = installed()
    states = []
    for ep in found:
        if chosen is not None and ep.name not in chosen:
            states.append(PluginState(ep.name, ep.value, False, "not chosen by CRM_PLUGINS"))
            continue
        states.append(_mount(ep, app, settings))
    for name in sorted((chosen or set()) - {ep.name for ep in found}):
        log.warning("plugin %s named by CRM_PLUGINS is not installed", name)
        states.append(PluginState(name, "", False, "not installed"))
    return states
