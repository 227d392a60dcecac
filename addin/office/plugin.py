"""The bridge plugin (entry point ``crm_bridge.plugins: office``): mounts the Office
add-in's service at ``/office`` beside ``/api/v1`` on the same port, so a deployment has
one URL and the bridge imports nothing of the add-in by name."""

from __future__ import annotations

from typing import Any

from addin.office.settings import from_bridge


class OfficePlugin:
    """``mount(app, settings)``: the service, configured from ``CRM_OFFICE_*`` and the
    bridge's settings (``CRM_PUBLIC_URL``)."""

    name = "office"

    def mount(self, app: Any, settings: Any) -> None:
        from addin.office.service import OfficeService

        service = OfficeService(from_bridge(settings))
        app.mount("/office", service.app)
        app.state.office = service


plugin = OfficePlugin()
