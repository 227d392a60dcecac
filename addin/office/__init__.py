"""The Office.js add-in's service, served by the bridge at ``/office/`` through the
``crm_bridge.plugins`` entry point (:mod:`addin.office.plugin`).

The JavaScript client (``static/``) reads the sheets a command needs and posts their values
(:mod:`addin.payload.snapshot`); the service runs the same command of
:mod:`addin.commands` over the payload port and hands back host-neutral actions
(:mod:`addin.payload.actions`). The service talks to the bridge over HTTP with the caller's
token, like every other client, and keeps sessions on disk so several workers share them.
"""
