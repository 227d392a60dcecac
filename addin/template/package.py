"""Post-process the XlsxWriter package: add the ribbon (customUI) and rewrite the zip reproducibly.

The rewritten zip has every member dated 1980-01-01, ``[Content_Types].xml`` and
``_rels/.rels`` first and the other members in sorted order, with fixed attributes and
compression, so the same parts always give the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree

CUSTOM_UI_PART = "customUI/customUI.xml"
CUSTOM_UI_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
CONTENT_TYPES_PART = "[Content_Types].xml"
ROOT_RELS_PART = "_rels/.rels"
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_XML_DEFAULT = re.compile(r'<Default\s+Extension="xml"\s+ContentType="application/xml"\s*/>')


def read_parts(package: bytes) -> dict[str, bytes]:
    """The members of a zip package by name, in the package's order."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_parts(parts: dict[str, bytes]) -> bytes:
    """A deterministic zip of ``parts`` (fixed dates, attributes, order and compression)."""
    first = [p for p in (CONTENT_TYPES_PART, ROOT_RELS_PART) if p in parts]
    names = first + sorted(p for p in parts if p not in first)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, parts[name], compresslevel=COMPRESS_LEVEL)
    return out.getvalue()


def _insert_before(xml: str, closing_tag: str, element: str) -> str:
    at = xml.rindex(closing_tag)
    return xml[:at] + element + xml[at:]


def add_root_relationship(rels_xml: str, rel_type: str, target: str) -> str:
    """``_rels/.rels`` with one more relationship (a fresh ``rIdN``) unless already there."""
    root = ElementTree.fromstring(rels_xml.encode("utf-8"))
    rels = root.findall(f"{_REL_NS}Relationship")
    if any(r.get("Type") == rel_type and r.get("Target") == target for r in rels):
        return rels_xml
    ids = {r.get("Id") for r in rels}
    n = 1
    while f"rId{n}" in ids:
        n += 1
    element = (f"<Relationship Id={quoteattr(f'rId{n}')} Type={quoteattr(rel_type)} "
               f"Target={quoteattr(target)}/>")
    return _insert_before(rels_xml, "</Relationships>", element)


def ensure_xml_content_type(types_xml: str, part: str) -> str:
    """``[Content_Types].xml`` typing ``part`` as ``application/xml`` (Default or Override)."""
    ElementTree.fromstring(types_xml.encode("utf-8"))  # well-formed, or raise
    if _XML_DEFAULT.search(types_xml) or f'PartName="/{part}"' in types_xml:
        return types_xml
    element = f'<Override PartName="/{part}" ContentType="application/xml"/>'
    return _insert_before(types_xml, "</Types>", element)


def add_custom_ui(package: bytes, custom_ui_xml: str) -> bytes:
    """``package`` with the ribbon XML as ``customUI/customUI.xml``, related from the root."""
    parts = read_parts(package)
    parts[CUSTOM_UI_PART] = custom_ui_xml.encode("utf-8")
    parts[ROOT_RELS_PART] = add_root_relationship(
        parts[ROOT_RELS_PART].decode("utf-8"), CUSTOM_UI_REL_TYPE, CUSTOM_UI_PART
    ).encode("utf-8")
    parts[CONTENT_TYPES_PART] = ensure_xml_content_type(
        parts[CONTENT_TYPES_PART].decode("utf-8"), CUSTOM_UI_PART
    ).encode("utf-8")
    return write_parts(parts)
