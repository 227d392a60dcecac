"""Small input windows for the ribbon, from Python (tkinter ships with python.org's Windows
interpreter): a prompt that can hide what is typed (``show="*"``, for tokens and passwords)
and a file picker. xlwings' ``app.api.InputBox`` shows a token as typed and exists on
Windows only; these work wherever Python has tkinter. Without tkinter a hidden prompt is
refused with :class:`DialogsUnavailable` (``SECRET_PROMPT_UNAVAILABLE``: its message says
to sign in with ``crm-sheet login``); a caller may fall back to what the host offers."""

from __future__ import annotations

from typing import Any

from addin.errors import AddinError
from schema.errors import ErrorCode

TITLE = "CRM"


class DialogsUnavailable(AddinError):
    """This Python cannot show a tkinter window (no tkinter, or no display)."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.SECRET_PROMPT_UNAVAILABLE)


def _root() -> Any:
    """A hidden, topmost Tk root (the dialog appears over Excel)."""
    try:
        import tkinter
    except ImportError:
        raise DialogsUnavailable() from None
    try:
        root = tkinter.Tk()
    except tkinter.TclError:  # no display
        raise DialogsUnavailable() from None
    root.withdraw()
    root.attributes("-topmost", True)
    return root


class TkDialogs:
    """Prompts and a file picker in tkinter windows."""

    def ask(self, prompt: str, default: str = "", secret: bool = False) -> str | None:
        """The typed text (None when cancelled); ``secret`` hides it as ``*``."""
        root = _root()
        from tkinter import simpledialog

        try:
            answer = simpledialog.askstring(TITLE, prompt, initialvalue=default or None,
                                            show="*" if secret else "", parent=root)
        finally:
            root.destroy()
        return None if answer is None else str(answer)

    def pick_file(self, prompt: str, patterns: tuple[str, ...]) -> str | None:
        root = _root()
        from tkinter import filedialog

        try:
            answer = filedialog.askopenfilename(
                title=prompt, parent=root,
                filetypes=[("CRM", " ".join(patterns)), ("*", "*")])
        finally:
            root.destroy()
        return str(answer) or None
