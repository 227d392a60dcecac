"""Checks of the Office add-in manifest that need no schema file: the element order the
add-in only manifest requires (as Microsoft's "manifest element ordering" page lists it),
the required elements, resource references and their limits; and the XSD validation with
Microsoft's published schemas, when a folder holding them is found."""

from __future__ import annotations

import os
from pathlib import Path

from lxml import etree

from addin.office.manifest import NS, NS_BT, NS_OV

ROOT = Path(__file__).resolve().parents[2]
Q = {"": NS, "bt": NS_BT, "ov": NS_OV}
# children of <OfficeApp xsi:type="TaskPaneApp">, in the order the schema requires
OFFICEAPP_ORDER = ("Id", "AlternateId", "Version", "ProviderName", "DefaultLocale",
                   "DisplayName", "Description", "IconUrl", "HighResolutionIconUrl",
                   "SupportUrl", "AppDomains", "Hosts", "Requirements", "DefaultSettings",
                   "Permissions", "Dictionary", "VersionOverrides", "ExtendedOverrides")
OFFICEAPP_REQUIRED = ("Id", "Version", "ProviderName", "DefaultLocale", "DisplayName",
                      "Description", "Hosts", "Requirements", "DefaultSettings",
                      "Permissions")
OV_ORDER = {  # within VersionOverrides (task pane)
    "VersionOverrides": ("Description", "Requirements", "Hosts", "Resources",
                         "WebApplicationInfo", "EquivalentAddins"),
    "Host": ("Runtimes", "AllFormFactors", "DesktopFormFactor"),
    "DesktopFormFactor": ("GetStarted", "FunctionFile", "ExtensionPoint"),
    "Group": ("Label", "Icon", "Control"),
    "Control": ("Label", "Supertip", "Icon", "Action"),
    "CustomTab": ("Group", "Label"),
    "Resources": ("Images", "Urls", "ShortStrings", "LongStrings"),
}
RESOURCE_KIND = {"Image": "Images", "SourceLocation": "Urls", "FunctionFile": "Urls",
                 "Runtime": "Urls", "LearnMoreUrl": "Urls", "Label": "ShortStrings",
                 "Title": "ShortStrings", "Description": "LongStrings"}
MAX_RESID = 32
MAX_SHORT, MAX_LONG = 125, 250


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


def order_problems(el: etree._Element, order: tuple[str, ...]) -> list[str]:
    """Children of ``el`` that are unknown or out of ``order`` (repeats allowed)."""
    out, last = [], -1
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = local(child)
        if name not in order:
            out.append(f"{local(el)}: unexpected {name}")
            continue
        at = order.index(name)
        if at < last:
            out.append(f"{local(el)}: {name} after {order[last]}")
        last = max(last, at)
    return out


def structure_problems(doc: etree._Element) -> list[str]:
    problems = order_problems(doc, OFFICEAPP_ORDER)
    present = {local(c) for c in doc if isinstance(c.tag, str)}
    problems += [f"OfficeApp: {n} missing" for n in OFFICEAPP_REQUIRED if n not in present]
    for el in doc.iter(f"{{{NS_OV}}}*", f"{{{NS_BT}}}*"):
        order = OV_ORDER.get(local(el))
        if order is not None:
            problems += order_problems(el, order)
    return problems


def resources(doc: etree._Element) -> dict[str, dict[str, etree._Element]]:
    res = doc.find(".//ov:Resources", Q)
    assert res is not None, "VersionOverrides has no Resources"
    return {local(kind): {item.get("id"): item for item in kind} for kind in res}


def reference_problems(doc: etree._Element) -> list[str]:
    """Every ``resid`` names a resource of the right kind; ids and texts within limits."""
    res = resources(doc)
    problems = []
    for el in doc.iter():
        resid = el.get("resid") if isinstance(el.tag, str) else None
        if resid is None:
            continue
        kind = RESOURCE_KIND.get(local(el))
        if kind is None or resid not in res.get(kind, {}):
            problems.append(f"{local(el)} resid={resid!r}: no such {kind} resource")
    for kind, items in res.items():
        for rid, item in items.items():
            if len(rid) > MAX_RESID:
                problems.append(f"resource id {rid!r} is over {MAX_RESID} characters")
            limit = {"ShortStrings": MAX_SHORT, "LongStrings": MAX_LONG}.get(kind)
            texts = [item.get("DefaultValue") or ""] + [
                o.get("Value") or "" for o in item.findall("bt:Override", Q)]
            problems += [f"{kind} {rid}: {len(t)} characters" for t in texts
                         if limit and len(t) > limit]
    return problems


# --- Microsoft's XSDs ---------------------------------------------------------------------
XSD_ENV = "CRM_OFFICE_XSD_DIR"
ROOT_XSD = "OfficeAppManifestV1_1.xsd"
XSD_FOLDERS = (ROOT / "tests" / "data" / "office_manifest", ROOT.parent / "shared" /
               "office_manifest")
# The last schemas published in OfficeDev/office-js-docs-pr (docs/overview/schemas/
# taskpane, 2019) need three repairs to load, made here at load time, never in the files:
REPAIRS = (
    # a site-wide http -> https rewrite broke the XML Schema namespace
    ("https://www.w3.org/2001/XMLSchema", "http://www.w3.org/2001/XMLSchema"),
    # a lazy quantifier is not XML Schema regex syntax (the Version pattern)
    ("{0,3}?", "{0,3}"),
)
# imported by OfficeAppManifestV1_1.xsd for content add-ins, never published there: a
# stand-in that declares the element, unused by a task pane manifest
CONTENT_STUB = """<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified"
    targetNamespace="http://schemas.microsoft.com/office/contentappversionoverrides">
  <xs:element name="VersionOverrides" type="xs:anyType"/>
</xs:schema>
"""


def xsd_folder() -> Path | None:
    env = os.environ.get(XSD_ENV)
    for folder in ([Path(env)] if env else []) + list(XSD_FOLDERS):
        if (folder / ROOT_XSD).is_file():
            return folder
    return None


def load_schema(folder: Path, work: Path) -> etree.XMLSchema:
    """The schema set of ``folder``, repaired into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    for xsd in folder.glob("*.xsd"):
        text = xsd.read_text(encoding="utf-8-sig")
        for old, new in REPAIRS:
            text = text.replace(old, new)
        (work / xsd.name).write_text(text, encoding="utf-8")
    stub = work / "ContentAppVersionOverridesV1_0.xsd"
    if not stub.exists():
        stub.write_text(CONTENT_STUB, encoding="utf-8")
    return etree.XMLSchema(etree.parse(str(work / ROOT_XSD)))


def without_runtimes(doc: etree._Element) -> etree._Element:
    """A copy without ``<Runtimes>`` (SharedRuntime, 2020: newer than those schemas; its
    form is checked by the tests instead)."""
    copy = etree.fromstring(etree.tostring(doc))
    for el in list(copy.iter(f"{{{NS_OV}}}Runtimes")):
        el.getparent().remove(el)
    return copy
