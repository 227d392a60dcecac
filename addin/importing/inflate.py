"""A zip member's real bytes, decompressed from the raw stream and checked against what the
zip directory declares.

The size checks of ``addin.safety.member_problem`` read the sizes a zip declares; a hostile
file can declare a few bytes for a member that inflates to gigabytes. Python's zipfile stops
at the declared size, a Rust reader may not: :func:`member_size_lie` decompresses each
member itself (stored or deflated; anything else is refused) and says when the real size is
not the declared one.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1024 * 1024
_LOCAL = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length


class MemberError(Exception):
    """A member that cannot be read as declared (``lie``: it holds more than declared)."""

    def __init__(self, member: str, detail: str, *, lie: bool = False) -> None:
        super().__init__(f"{member}: {detail}")
        self.member, self.detail, self.lie = member, detail, lie


def inflate(path: Path, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The decompressed bytes of ``info``, in chunks; ``MemberError`` as soon as they pass
    the declared size, or when the member is encrypted or compressed otherwise."""
    if info.flag_bits & 0x1:
        raise MemberError(info.filename, "an encrypted zip member")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise MemberError(info.filename, f"compression method {info.compress_type}")
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        sig, name_len, extra_len = _LOCAL.unpack(fh.read(_LOCAL.size))
        if sig != b"PK\x03\x04":
            raise MemberError(info.filename, "no local header where the directory points")
        fh.seek(info.header_offset + _LOCAL.size + name_len + extra_len)
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED \
            else None
        left, out = info.compress_size, 0
        while left > 0:
            raw = fh.read(min(CHUNK, left))
            if not raw:
                raise MemberError(info.filename, "cut short")
            left -= len(raw)
            while raw:
                data = raw if inflater is None else inflater.decompress(raw, CHUNK)
                raw = b"" if inflater is None else inflater.unconsumed_tail
                out += len(data)
                if out > info.file_size:
                    raise MemberError(info.filename, f"holds more than the {info.file_size} "
                                      "bytes it declares (a zip bomb)", lie=True)
                if data:
                    yield data
        if out != info.file_size:
            raise MemberError(info.filename, f"holds {out} bytes, not the {info.file_size} "
                              "it declares")


def member_size_lie(path: Path, info: zipfile.ZipInfo) -> MemberError | None:
    """Decompress ``info`` to its end: None when it holds exactly what it declares."""
    try:
        for _chunk in inflate(path, info):
            pass
    except MemberError as exc:
        return exc
    except zlib.error as exc:
        return MemberError(info.filename, f"damaged data ({exc})")
    return None
