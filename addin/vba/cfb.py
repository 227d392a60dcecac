"""A minimal, deterministic MS-CFB (compound file) writer.

Version 3 files with 512-byte sectors; streams shorter than 4096 bytes live in the mini
stream (64-byte mini sectors). Timestamps and CLSIDs are zero, so equal input gives equal
bytes. Each storage's children form a valid red-black tree (2.6.4). No DIFAT sectors are
written, which caps the file at 109 FAT sectors (about 7 MB) -- ample for a VBA project.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
_IDS_PER_SECTOR = SECTOR // 4
_HEADER_DIFAT = 109

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1
_FORBIDDEN = set("/\\:!")


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    children: list[_Node] = field(default_factory=list)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN


def name_key(name: str) -> tuple[int, tuple[int, ...]]:
    """Sort key of MS-CFB 2.6.4: shorter names first, then upper-cased UTF-16 code units."""
    upper = "".join(ch.upper() if len(ch.upper()) == 1 else ch for ch in name)
    units = upper.encode("utf-16-le")
    return len(units), struct.unpack(f"<{len(units) // 2}H", units)


def _check_name(name: str) -> None:
    if not name or len(name.encode("utf-16-le")) > 62 or _FORBIDDEN & set(name):
        raise ValueError(f"invalid compound file entry name: {name!r}")


def _build_tree(streams: Sequence[tuple[str, bytes]]) -> _Node:
    root = _Node("Root Entry", _ROOT)
    for path, data in streams:
        parts = path.split("/")
        node = root
        for depth, part in enumerate(parts):
            _check_name(part)
            last = depth == len(parts) - 1
            found = [c for c in node.children if name_key(c.name) == name_key(part)]
            if found:
                if last or found[0].kind != _STORAGE:
                    raise ValueError(f"duplicate or conflicting entry: {path!r}")
                node = found[0]
                continue
            new = _Node(part, _STREAM if last else _STORAGE, bytes(data) if last else b"")
            node.children.append(new)
            node = new
    return root


def _flatten(root: _Node) -> list[_Node]:
    """Assign stream IDs in pre-order (input order among siblings); root is ID 0."""
    order: list[_Node] = []

    def visit(node: _Node) -> None:
        node.sid = len(order)
        order.append(node)
        for child in node.children:
            visit(child)

    visit(root)
    return order


def _link_siblings(parent: _Node) -> None:
    """Make ``parent``'s children a balanced BST coloured as a valid red-black tree."""
    nodes = sorted(parent.children, key=lambda n: name_key(n.name))
    depths: dict[int, int] = {}

    def build(lo: int, hi: int, depth: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = nodes[mid]
        depths[mid] = depth
        node.left = build(lo, mid, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        return node.sid

    parent.child = build(0, len(nodes), 0)
    if not nodes:
        return
    # Leaves of a size-balanced tree sit on the last two levels; when the last level is not
    # full, colouring it red keeps every root-to-leaf path at the same black height.
    deepest = max(depths.values())
    perfect = len(nodes) == 2 ** (deepest + 1) - 1
    for i, node in enumerate(nodes):
        node.color = _RED if depths[i] == deepest and not perfect else _BLACK


def _pack_entry(node: _Node | None) -> bytes:
    if node is None:  # unused entry
        return b"\x00" * 68 + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + b"\x00" * 48
    name = node.name.encode("utf-16-le") + b"\x00\x00"
    size = len(node.data) if node.kind != _STORAGE else 0
    start = node.start if node.kind != _STORAGE else 0
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name),
        node.kind,
        node.color,
        node.left,
        node.right,
        node.child,
        b"\x00" * 16,
        0,
        0,
        0,
        start,
        size,
    )


def _sectors(n_bytes: int, unit: int = SECTOR) -> int:
    return -(-n_bytes // unit)


def _pad(data: bytes, unit: int = SECTOR) -> bytes:
    return data + b"\x00" * (-len(data) % unit)


def _chain(table: list[int], first: int, count: int) -> None:
    for i in range(count):
        table[first + i] = first + i + 1 if i < count - 1 else ENDOFCHAIN


def build_cfb(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """Build a compound file from ``(path, data)`` pairs; ``"A/B"`` puts stream B in storage A.

    Storages are created implicitly from the paths, in first-seen order.
    """
    root = _build_tree(streams)
    entries = _flatten(root)
    for node in entries:
        if node.kind != _STREAM:
            _link_siblings(node)
    stream_nodes = [n for n in entries if n.kind == _STREAM and n.data]
    small = [n for n in stream_nodes if len(n.data) < MINI_CUTOFF]
    large = [n for n in stream_nodes if len(n.data) >= MINI_CUTOFF]

    # Mini stream and mini FAT.
    mini_stream = bytearray()
    minifat: list[int] = []
    for node in small:
        node.start = len(minifat)
        count = _sectors(len(node.data), MINI_SECTOR)
        minifat.extend([FREESECT] * count)
        _chain(minifat, node.start, count)
        mini_stream += _pad(node.data, MINI_SECTOR)
    n_minifat = _sectors(len(minifat) * 4)
    minifat += [FREESECT] * (n_minifat * _IDS_PER_SECTOR - len(minifat))
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)

    # Sector counts; FAT sectors come first, so find the smallest FAT that covers itself.
    n_dir = _sectors(len(entries) * 128)
    n_mini = _sectors(len(mini_stream))
    n_data = n_dir + n_minifat + n_mini + sum(_sectors(len(n.data)) for n in large)
    n_fat = 1
    while n_fat * _IDS_PER_SECTOR < n_fat + n_data:
        n_fat += 1
    if n_fat > _HEADER_DIFAT:
        raise ValueError("compound file too large for a writer without DIFAT sectors")

    fat = [FREESECT] * (n_fat * _IDS_PER_SECTOR)
    fat[:n_fat] = [FATSECT] * n_fat
    cursor = n_fat
    dir_start = cursor
    _chain(fat, cursor, n_dir)
    cursor += n_dir
    minifat_start = cursor if n_minifat else ENDOFCHAIN
    _chain(fat, cursor, n_minifat)
    cursor += n_minifat
    root.start = cursor if n_mini else ENDOFCHAIN
    root.data = bytes(mini_stream)
    _chain(fat, cursor, n_mini)
    cursor += n_mini
    body = bytearray()
    for node in large:
        node.start = cursor
        count = _sectors(len(node.data))
        _chain(fat, cursor, count)
        cursor += count
        body += _pad(node.data)

    directory = b"".join(_pack_entry(n) for n in entries)
    directory += _pack_entry(None) * (n_dir * 4 - len(entries))
    difat = list(range(n_fat)) + [FREESECT] * (_HEADER_DIFAT - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\x00" * 16,
        0x003E,  # minor version
        0x0003,  # major version
        0xFFFE,  # byte order
        9,  # sector shift
        6,  # mini sector shift
        b"\x00" * 6,
        0,  # number of directory sectors (must be 0 for version 3)
        n_fat,
        dir_start,
        0,  # transaction signature
        MINI_CUTOFF,
        minifat_start,
        n_minifat,
        ENDOFCHAIN,  # first DIFAT sector
        0,  # number of DIFAT sectors
        *difat,
    )
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    return b"".join(
        (header, fat_bytes, directory, minifat_bytes, _pad(bytes(mini_stream)), bytes(body))
    )
