"""MS-OVBA pieces: the 2.4.1 compression algorithm and the ``dir`` stream writer (2.3.4.2).

The compressor is deterministic: at each position it emits the longest match found among
the nearest candidates of the current 4096-byte chunk (ties go to the nearest candidate).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

CHUNK_SIZE = 4096
_MAX_COMPRESSED_CHUNK = 4098  # header (2 bytes) + at most 4096 bytes of tokens
_CHUNK_SIGNATURE = 0b011 << 12
_MAX_CANDIDATES = 96  # match candidates examined per position (bounds worst-case time)


def _copy_token_bits(difference: int) -> int:
    """Return BitCount (2.4.1.3.19.1) for ``difference`` bytes already decompressed in a chunk."""
    return max((difference - 1).bit_length(), 4)


def _match_length(data: bytes, cand: int, pos: int, limit: int) -> int:
    """Length of the common prefix of ``data[cand:]`` and ``data[pos:]``, capped at ``limit``."""
    n = 0
    step = 64
    while step:
        while (
            n + step <= limit and data[cand + n : cand + n + step] == data[pos + n : pos + n + step]
        ):
            n += step
        step //= 4
    return n


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """Compress ``data[start:end]`` (at most 4096 bytes) into one CompressedChunk."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = start

    def remember(p: int) -> None:
        if p + 3 <= end:
            heads.setdefault(data[p : p + 3], []).append(p)

    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len, best_off = 0, 0
            difference = pos - start
            bit_count = _copy_token_bits(difference) if difference else 4
            if difference and pos + 3 <= end:
                limit = min((0xFFFF >> bit_count) + 3, end - pos)
                for cand in reversed(heads.get(data[pos : pos + 3], [])[-_MAX_CANDIDATES:]):
                    length = _match_length(data, cand, pos, limit)
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == limit:
                            break
            if best_len >= 3:
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                for p in range(pos, pos + best_len):
                    remember(p)
                pos += best_len
            else:
                out.append(data[pos])
                remember(pos)
                pos += 1
        out[flag_at] = flags
    if len(out) + 2 <= _MAX_COMPRESSED_CHUNK:
        header = (len(out) + 2 - 3) | _CHUNK_SIGNATURE | 0x8000
        return struct.pack("<H", header) + bytes(out)
    # Incompressible: a raw chunk always holds exactly 4096 bytes (padded with 0x00 per spec).
    raw = data[start:end].ljust(CHUNK_SIZE, b"\x00")
    return struct.pack("<H", (CHUNK_SIZE + 2 - 3) | _CHUNK_SIGNATURE) + raw


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer (2.4.1.3.6).

    A trailing partial chunk that does not compress must be stored raw and is padded with
    NUL bytes to 4096 bytes, as the specification requires; VBA source text never hits this.
    """
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK_SIZE):
        out += _compress_chunk(data, start, min(start + CHUNK_SIZE, len(data)))
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer (2.4.1.3.1)."""
    if not container or container[0] != 0x01:
        raise ValueError("not a CompressedContainer (bad signature byte)")
    out = bytearray()
    cur = 1
    while cur < len(container):
        if cur + 2 > len(container):
            raise ValueError("truncated chunk header")
        (header,) = struct.unpack_from("<H", container, cur)
        if header & 0x7000 != _CHUNK_SIGNATURE:
            raise ValueError("bad CompressedChunkSignature")
        chunk_end = cur + (header & 0x0FFF) + 3
        if chunk_end > len(container):
            raise ValueError("truncated chunk")
        cur += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += container[cur : cur + CHUNK_SIZE]
            cur += CHUNK_SIZE
            continue
        while cur < chunk_end:
            flags = container[cur]
            cur += 1
            for bit in range(8):
                if cur >= chunk_end:
                    break
                if not (flags >> bit) & 1:
                    out.append(container[cur])
                    cur += 1
                    continue
                (token,) = struct.unpack_from("<H", container, cur)
                cur += 2
                bit_count = _copy_token_bits(len(out) - chunk_start)
                length = (token & (0xFFFF >> bit_count)) + 3
                offset = (token >> (16 - bit_count)) + 1
                src = len(out) - offset
                if src < chunk_start:
                    raise ValueError("copy token points before the chunk start")
                for i in range(length):
                    out.append(out[src + i])
    return bytes(out)


# --------------------------------------------------------------------------- dir stream


@dataclass(frozen=True)
class Reference:
    """A registered type-library reference (REFERENCENAME + REFERENCEREGISTERED)."""

    name: str
    libid: str


STDOLE = Reference(
    "stdole",
    "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb"
    "#OLE Automation",
)
OFFICE = Reference(
    "Office",
    "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\\Program Files\\Common Files"
    "\\Microsoft Shared\\OFFICE16\\MSO.DLL#Microsoft Office 16.0 Object Library",
)


@dataclass(frozen=True)
class DirModule:
    """What the ``dir`` stream records about one module (its source sits at offset 0)."""

    name: str
    document: bool


def _rec(rid: int, payload: bytes) -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def _u16(value: int) -> bytes:
    return struct.pack("<H", value)


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def build_dir_stream(
    project_name: str,
    modules: Sequence[DirModule],
    references: Sequence[Reference] = (STDOLE, OFFICE),
    *,
    codepage: int = 1252,
    lcid: int = 0x0409,
    syskind: int = 0x01,
) -> bytes:
    """Return the *uncompressed* ``dir`` stream (2.3.4.2) for a source-only project."""
    enc = f"cp{codepage}"

    def mbcs(text: str) -> bytes:
        return text.encode(enc)

    out = bytearray()
    # PROJECTINFORMATION
    out += _rec(0x0001, _u32(syskind))  # PROJECTSYSKIND
    out += _rec(0x0002, _u32(lcid))  # PROJECTLCID
    out += _rec(0x0014, _u32(lcid))  # PROJECTLCIDINVOKE
    out += _rec(0x0003, _u16(codepage))  # PROJECTCODEPAGE
    out += _rec(0x0004, mbcs(project_name))  # PROJECTNAME
    out += _rec(0x0005, b"") + _rec(0x0040, b"")  # PROJECTDOCSTRING (+ Unicode)
    out += _rec(0x0006, b"") + _rec(0x003D, b"")  # PROJECTHELPFILEPATH (HelpFile1, HelpFile2)
    out += _rec(0x0007, _u32(0))  # PROJECTHELPCONTEXT
    out += _rec(0x0008, _u32(0))  # PROJECTLIBFLAGS
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # PROJECTVERSION: Reserved=4, major, minor
    out += _rec(0x000C, b"") + _rec(0x003C, b"")  # PROJECTCONSTANTS (+ Unicode)
    # PROJECTREFERENCES
    for ref in references:
        out += _rec(0x0016, mbcs(ref.name)) + _rec(0x003E, _utf16(ref.name))  # REFERENCENAME
        libid = mbcs(ref.libid)
        out += _rec(0x000D, _u32(len(libid)) + libid + _u32(0) + _u16(0))  # REFERENCEREGISTERED
    # PROJECTMODULES
    out += _rec(0x000F, _u16(len(modules)))
    out += _rec(0x0013, _u16(0xFFFF))  # PROJECTCOOKIE
    for mod in modules:
        out += _rec(0x0019, mbcs(mod.name))  # MODULENAME
        out += _rec(0x0047, _utf16(mod.name))  # MODULENAMEUNICODE
        out += _rec(0x001A, mbcs(mod.name)) + _rec(0x0032, _utf16(mod.name))  # MODULESTREAMNAME
        out += _rec(0x001C, b"") + _rec(0x0048, b"")  # MODULEDOCSTRING
        out += _rec(0x0031, _u32(0))  # MODULEOFFSET: source starts at 0, no p-code
        out += _rec(0x001E, _u32(0))  # MODULEHELPCONTEXT
        out += _rec(0x002C, _u16(0xFFFF))  # MODULECOOKIE
        out += _rec(0x0022 if mod.document else 0x0021, b"")  # MODULETYPE
        out += _rec(0x002B, b"")  # module Terminator
    out += _rec(0x0010, b"")  # dir Terminator
    return bytes(out)
