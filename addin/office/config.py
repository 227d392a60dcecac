"""What the task pane asks first (``GET /office/api/config``): the buttons in the
workbook's language, the limits of the protocol, and the few words the service says."""

from __future__ import annotations

from typing import Any

from addin.office.manifest import EXCEL_API, GROUPS, NOTES_EXCEL_API, manifest_version
from addin.office.sessions import FILE_PART_BYTES
from addin.office.settings import OfficeSettings
from addin.payload.actions import MAX_BYTES, OPS
from schema.errors import Lang

SIGN_IN = "sign_in"  # the dialog and /office/api/sign-in, not a session command
COMMANDS = tuple(b.handler for g in GROUPS for b in g.buttons if b.handler != SIGN_IN)
WORDS: dict[str, tuple[str, str]] = {  # key -> (zh, en)
    "uploading": ("正在上传工作表", "Uploading the sheets"),
    "running": ("正在运行", "Running"),
    "applying": ("正在写入工作簿", "Writing to the workbook"),
    "downloading": ("正在下载文件", "Downloading the file"),
    "done": ("完成", "Done"),
    "conflicts": ("冲突", "Conflicts"),
    "messages": ("消息", "Messages"),
    "signed_out": ("已退出登录", "Signed out"),
    "session_expired": ("会话已过期，请再点一次按钮",
                        "The session expired: click the button again"),
    "token_expired": ("登录已过期，请重新登录", "Your sign-in expired: sign in again"),
    "notes_unsupported": (f"此版本的 Excel 不支持批注 API（需要 ExcelApi {NOTES_EXCEL_API}），"
                          "批注未读写",
                          f"This Excel lacks the notes API (ExcelApi {NOTES_EXCEL_API}): "
                          "cell notes were not read or written"),
}


def config(lang: Lang, settings: OfficeSettings) -> dict[str, Any]:
    """The task pane's configuration in ``lang``."""
    zh = lang == "zh"
    groups = []  # the ribbon's (the manifest's Task pane button opens this very pane)
    for g in GROUPS:
        groups.append({"id": g.id, "label": g.label_zh if zh else g.label_en, "buttons": [
            {"id": b.id, "handler": b.handler, "label": b.label_zh if zh else b.label_en,
             "tip": b.screentip_zh if zh else b.screentip_en} for b in g.buttons]})
    return {
        "version": manifest_version(),
        "lang": lang,
        "groups": groups,
        "buttons": [b for g in groups for b in g["buttons"]],
        "commands": list(COMMANDS),
        "ops": {op: list(keys) for op, keys in OPS.items()},
        "limits": {"max_bytes": MAX_BYTES, "max_request_bytes": settings.max_request_bytes,
                   "max_session_bytes": settings.max_session_bytes,
                   "file_part_bytes": FILE_PART_BYTES, "session_ttl": settings.session_ttl,
                   "first_page": 0, "first_part": 0},
        "requirements": {"ExcelApi": EXCEL_API, "notes": NOTES_EXCEL_API,
                         "SharedRuntime": "1.1"},
        "words": {k: zh_en[0] if zh else zh_en[1] for k, zh_en in WORDS.items()},
    }
