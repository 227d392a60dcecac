"""Assemble a source-only ``vbaProject.bin`` (MS-OVBA) from VBA module source text.

The project carries no compiled p-code: ``_VBA_PROJECT`` is the 7-byte header that tells
the host to compile from source, and every module's source starts at offset 0 of its
stream. All identifiers, seeds and timestamps are fixed, so the output is deterministic.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from addin.vba.cfb import build_cfb
from addin.vba.ovba import OFFICE, STDOLE, DirModule, Reference, build_dir_stream, compress

PROJECT_ID = "{6C3B4B3E-2C5A-4E0F-9B7D-5A1E0C4D2F11}"
VBA_PROJECT_HEADER = bytes.fromhex("CC61FFFF000000")
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
_SEED = 0x8D  # fixed obfuscation seed (any byte is valid); (seed & 6) // 2 = 2 ignored bytes


@dataclass(frozen=True)
class VbaModule:
    """One module: ``code`` is the body *without* ``Attribute VB_*`` header lines.

    Document modules (``document=True``) get the Excel document-module attribute header; the
    base class is the workbook for ``ThisWorkbook`` and a worksheet otherwise.
    """

    name: str
    code: str = ""
    document: bool = False

    def source(self) -> str:
        """The text stored in the module stream: attribute header plus body, CRLF endings."""
        header = [f'Attribute VB_Name = "{self.name}"']
        if self.document:
            base = WORKBOOK_BASE if self.name == "ThisWorkbook" else WORKSHEET_BASE
            header += [
                f'Attribute VB_Base = "{base}"',
                "Attribute VB_GlobalNameSpace = False",
                "Attribute VB_Creatable = False",
                "Attribute VB_PredeclaredId = True",
                "Attribute VB_Exposed = True",
                "Attribute VB_TemplateDerived = False",
                "Attribute VB_Customizable = True",
            ]
        body = normalise_newlines(self.code)
        return "\r\n".join(header) + "\r\n" + body


def normalise_newlines(text: str) -> str:
    """Convert CRLF / CR / LF line endings to CRLF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def parse_bas(text: str) -> VbaModule:
    """Turn exported ``.bas`` text into a procedural module.

    The leading ``Attribute VB_Name = "..."`` line names the module and is removed from the
    body (``VbaModule.source`` writes it back); other header lines are kept verbatim.
    """
    lines = normalise_newlines(text).split("\r\n")
    match = re.fullmatch(r'Attribute VB_Name = "([^"]+)"\s*', lines[0]) if lines else None
    if match is None:
        raise ValueError('.bas source must start with an Attribute VB_Name = "..." line')
    return VbaModule(match.group(1), "\r\n".join(lines[1:]))


def encrypt(data: bytes, project_id: str = PROJECT_ID, seed: int = _SEED) -> bytes:
    """MS-OVBA 2.4.3.2 data encryption (obfuscation) with a fixed seed and zero filler."""
    version = 2
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    out = bytearray([seed, seed ^ version, seed ^ proj_key])
    unencrypted1, encrypted1, encrypted2 = proj_key, seed ^ proj_key, seed ^ version
    for byte in bytes((seed & 6) // 2) + struct.pack("<I", len(data)) + data:
        enc = byte ^ ((encrypted2 + unencrypted1) & 0xFF)
        out.append(enc)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    return bytes(out)


def decrypt(blob: bytes) -> tuple[int, bytes]:
    """Inverse of :func:`encrypt`; returns ``(project_key, data)`` (used by tests)."""
    seed, version_enc, key_enc = blob[0], blob[1], blob[2]
    if seed ^ version_enc != 2:
        raise ValueError("unsupported encryption version")
    unencrypted1, encrypted1, encrypted2 = seed ^ key_enc, key_enc, version_enc
    plain = bytearray()
    for enc in blob[3:]:
        byte = enc ^ ((encrypted2 + unencrypted1) & 0xFF)
        plain.append(byte)
        encrypted2, encrypted1, unencrypted1 = encrypted1, enc, byte
    skip = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, skip)
    return seed ^ key_enc, bytes(plain[skip + 4 : skip + 4 + length])


def project_stream(project_name: str, modules: Sequence[VbaModule], project_id: str) -> str:
    """Text of the ``PROJECT`` stream (2.3.1) for an unprotected, visible project."""
    cmg, dpb, gc = (encrypt(d, project_id).hex().upper() for d in (bytes(4), bytes(1), b"\xff"))
    lines = [f'ID="{project_id}"']
    for mod in modules:
        lines.append(f"Document={mod.name}/&H00000000" if mod.document else f"Module={mod.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{cmg}"',  # ProjectProtectionState: not protected
        f'DPB="{dpb}"',  # ProjectPassword: none
        f'GC="{gc}"',  # ProjectVisibilityState: visible
        "",
        "[Host Extender Info]",
        _HOST_EXTENDER,
        "",
        "[Workspace]",
        *(f"{mod.name}=0, 0, 0, 0, C" for mod in modules),
        "",
    ]
    return "\r\n".join(lines) + "\r\n"


def _projectwm(modules: Sequence[VbaModule], encoding: str) -> bytes:
    out = bytearray()
    for mod in modules:
        out += mod.name.encode(encoding) + b"\x00" + mod.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def build_vba_project(
    modules: Sequence[VbaModule],
    document_modules: Sequence[str] = ("ThisWorkbook", "Sheet1"),
    *,
    project_name: str = "CRMWorkbook",
    project_id: str = PROJECT_ID,
    references: Sequence[Reference] = (STDOLE, OFFICE),
    codepage: int = 1252,
) -> bytes:
    """Return the bytes of a ``vbaProject.bin`` holding ``modules`` as source only.

    ``document_modules`` lists the code names of the workbook (``ThisWorkbook``) and its
    sheets; each becomes an empty document module unless ``modules`` already defines a
    document module with that name. Document modules come first, then the others in order.
    """
    encoding = f"cp{codepage}"
    given = {m.name: m for m in modules if m.document}
    ordered = [given.pop(name, VbaModule(name, document=True)) for name in document_modules]
    ordered += list(given.values()) + [m for m in modules if not m.document]
    seen: set[str] = set()
    for mod in [*ordered, VbaModule(project_name)]:
        if not _IDENTIFIER.fullmatch(mod.name) or mod.name.upper() in seen:
            raise ValueError(f"invalid or duplicate VBA name: {mod.name!r}")
        seen.add(mod.name.upper())

    dir_stream = build_dir_stream(
        project_name,
        [DirModule(m.name, m.document) for m in ordered],
        references,
        codepage=codepage,
    )
    streams: list[tuple[str, bytes]] = [
        ("PROJECT", project_stream(project_name, ordered, project_id).encode(encoding)),
        ("PROJECTwm", _projectwm(ordered, encoding)),
        ("VBA/_VBA_PROJECT", VBA_PROJECT_HEADER),
        ("VBA/dir", compress(dir_stream)),
    ]
    streams += [(f"VBA/{m.name}", compress(m.source().encode(encoding))) for m in ordered]
    return build_cfb(streams)
