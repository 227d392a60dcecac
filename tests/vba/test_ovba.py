"""MS-OVBA compression: spec example, round trips, interoperability with oletools."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from addin.vba.ovba import CHUNK_SIZE, compress, decompress

# MS-OVBA 3.2.2 "Normal Compression Example": input and the documented compressed bytes.
SPEC_INPUT = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
SPEC_COMPRESSED = bytes.fromhex(
    "012FB00023616161626364658266007061676869 6A0138086"
    "16B6C00206D6E6F7006710270040072737475761077787 97A002C".replace(" ", "")
)

_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _roundtrip(data: bytes) -> None:
    packed = compress(data)
    ours, theirs = decompress(packed), decompress_stream(bytearray(packed))
    assert ours == theirs
    if ours != data:
        # Only allowed deviation: an incompressible partial last chunk is stored as a raw
        # chunk, which the spec pads with NULs to 4096 bytes.
        assert len(ours) % CHUNK_SIZE == 0 and ours[: len(data)] == data
        assert set(ours[len(data) :]) == {0}
    assert compress(data) == packed


def test_matches_spec_example() -> None:
    assert compress(SPEC_INPUT) == SPEC_COMPRESSED
    assert decompress(SPEC_COMPRESSED) == SPEC_INPUT


def test_empty_and_tiny() -> None:
    assert compress(b"") == b"\x01"
    assert decompress(b"\x01") == b""
    for data in (b"a", b"ab", b"abc", b"aaaa"):
        assert decompress(compress(data)) == data


@pytest.mark.parametrize("size", [4095, 4096, 4097, 8192, 50_000])
def test_long_repetitive(size: int) -> None:
    data = (b"Sub Foo()\r\n    Bar 1\r\nEnd Sub\r\n" * (size // 30 + 1))[:size]
    packed = compress(data)
    assert len(packed) < len(data) // 10
    _roundtrip(data)


def test_incompressible_full_chunks_use_raw_chunks() -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    packed = compress(data)
    assert len(packed) == 1 + 3 * (CHUNK_SIZE + 2)
    assert decompress(packed) == data == decompress_stream(bytearray(packed))


def test_incompressible_tail_is_padded_per_spec() -> None:
    data = os.urandom(CHUNK_SIZE + 3800)
    assert decompress(compress(data)) == data + b"\x00" * (CHUNK_SIZE - 3800)


@_SETTINGS
@given(st.binary(max_size=50_000))
def test_roundtrip_random_bytes(data: bytes) -> None:
    _roundtrip(data)


@_SETTINGS
@given(
    st.lists(
        st.tuples(st.text(alphabet="ab \r\nSubEnd()'\"", max_size=40), st.integers(1, 400)),
        max_size=20,
    )
)
def test_roundtrip_repetitive_text(parts: list[tuple[str, int]]) -> None:
    data = "".join(text * count for text, count in parts).encode("cp1252")[:50_000]
    packed = compress(data)
    assert decompress(packed) == data == decompress_stream(bytearray(packed))


@_SETTINGS
@given(st.text(max_size=3000))
def test_roundtrip_unicode_text(text: str) -> None:
    data = text.encode("utf-8")
    packed = compress(data)
    assert decompress(packed) == data == decompress_stream(bytearray(packed))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 50_000), st.integers(1, 256), st.randoms(use_true_random=False))
def test_roundtrip_large_inputs(size: int, alphabet: int, rnd: random.Random) -> None:
    """Large inputs over small to full byte alphabets (long matches to incompressible)."""
    _roundtrip(bytes(rnd.randrange(alphabet) for _ in range(size)))


@pytest.mark.parametrize(
    "blob", [b"", b"\x02", b"\x01\x00", b"\x01\xff\x0f", b"\x01\x03\xb0\x01\x00\x00"]
)
def test_decompress_rejects_garbage(blob: bytes) -> None:
    with pytest.raises(ValueError):
        decompress(blob)
