"""Draw the add-in's PNG icons once (``python -m addin.office.icons``; needs Pillow, a dev
dependency): the app icon at 16/32/64/80 px and one icon per manifest button at 16/32/80 px,
a rounded square in the ribbon's blue with the button's letter. The PNGs are committed in
``static/icons/``; the service only serves them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from addin.office.manifest import APP_ICON_SIZES, BUTTON_ICON_SIZES, GROUPS, buttons_of

ICONS = Path(__file__).resolve().parent / "static" / "icons"
BLUE = (31, 78, 120, 255)  # the report sheets' tab colour, 1F4E78
LETTERS = {"crm_sign_in": "S", "crm_pull": "down", "crm_push": "up", "crm_validate": "check",
           "crm_import": "I", "crm_refresh_reports": "R", "crm_upgrade": "U",
           "crm_help": "?", "crm_taskpane": "="}
WHITE = (255, 255, 255, 255)


def expected() -> dict[str, int]:
    """Every icon file name and its size in pixels."""
    out = {f"crm-{s}.png": s for s in APP_ICON_SIZES}
    for i in range(len(GROUPS)):
        out |= {f"{b.id}-{s}.png": s for b in buttons_of(i) for s in BUTTON_ICON_SIZES}
    return out


def _arrow(pen: Any, big: int, down: bool) -> None:
    u = big / 10
    shaft = (4 * u, 2 * u, 6 * u, 6 * u) if down else (4 * u, 4 * u, 6 * u, 8 * u)
    head = [(2 * u, 5.5 * u), (8 * u, 5.5 * u), (5 * u, 8.5 * u)] if down else \
        [(2 * u, 4.5 * u), (8 * u, 4.5 * u), (5 * u, 1.5 * u)]
    pen.rectangle(shaft, fill=WHITE)
    pen.polygon(head, fill=WHITE)


def _check(pen: Any, big: int) -> None:
    u = big / 10
    pen.line([(2 * u, 5.2 * u), (4.2 * u, 7.4 * u), (8 * u, 2.8 * u)], fill=WHITE,
             width=int(1.3 * u), joint="curve")


SHAPES: dict[str, Callable[[Any, int], None]] = {
    "down": lambda pen, big: _arrow(pen, big, True),
    "up": lambda pen, big: _arrow(pen, big, False),
    "check": _check,
}


def draw(letter: str, size: int) -> bytes:
    import io

    from PIL import Image, ImageDraw, ImageFont

    scale = 4  # drawn large, then scaled down: smooth edges at 16 px
    big = size * scale
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BLUE)
    if letter in SHAPES:
        SHAPES[letter](pen, big)
    else:
        font = ImageFont.load_default(size=int(big * 0.62))
        pen.text((big / 2, big / 2), letter, fill=WHITE, font=font, anchor="mm")
    out = io.BytesIO()
    img.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> int:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, size in expected().items():
        button = name.rsplit("-", 1)[0]
        (ICONS / name).write_bytes(draw(LETTERS.get(button, "C"), size))
    print(f"wrote {len(expected())} icons to {ICONS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
