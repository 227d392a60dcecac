"""The one declaration of the CRM ribbon: tab, groups and buttons.

``render.py`` turns this into ``customUI.xml`` and the ``CRMRibbon`` VBA callback module;
the Python side routes a clicked control id to ``Button.handler`` via :data:`BUTTONS_BY_ID`.
"""

from __future__ import annotations

from dataclasses import dataclass

TAB_ID = "crmTab"
TAB_LABEL_ZH = "CRM"
TAB_LABEL_EN = "CRM"


@dataclass(frozen=True)
class Button:
    """A large ribbon button; ``handler`` names the Python function it triggers."""

    id: str
    handler: str
    label_zh: str
    label_en: str
    image_mso: str
    screentip_zh: str
    screentip_en: str


@dataclass(frozen=True)
class Group:
    """A ribbon group holding buttons, labelled in both languages."""

    id: str
    label_zh: str
    label_en: str
    buttons: tuple[Button, ...]


GROUPS: tuple[Group, ...] = (
    Group(
        "crmSyncGroup",
        "同步",
        "Sync",
        (
            Button(
                "crm_sign_in",
                "sign_in",
                "登录",
                "Sign in",
                "AdpPrimaryKey",
                "登录 CRM 服务器",
                "Sign in to the CRM server",
            ),
            Button(
                "crm_pull",
                "pull",
                "拉取",
                "Pull",
                "ImportExcel",
                "从服务器拉取最新数据",
                "Pull the latest data from the server",
            ),
            Button(
                "crm_push",
                "push",
                "推送",
                "Push",
                "ExportExcel",
                "将本地修改推送到服务器",
                "Push local changes to the server",
            ),
            Button(
                "crm_validate",
                "validate",
                "校验",
                "Validate",
                "DataValidation",
                "检查工作表中的数据",
                "Check the data in the worksheets",
            ),
        ),
    ),
    Group(
        "crmToolsGroup",
        "工具",
        "Tools",
        (
            Button(
                "crm_import",
                "import_file",
                "导入",
                "Import",
                "ImportTextFile",
                "导入旧表格或 CSV：先试运行并生成报告，再次点击选择报告即确认",
                "Import old sheets or CSV: a dry run and its report first; click again and "
                "choose the report to confirm",
            ),
            Button(
                "crm_refresh_reports",
                "refresh_reports",
                "刷新报表",
                "Refresh reports",
                "RefreshAll",
                "重新计算所有报表",
                "Recalculate all reports",
            ),
            Button(
                "crm_upgrade",
                "upgrade",
                "升级模板",
                "Upgrade template",
                "TableDesign",
                "将工作簿升级到最新模板",
                "Upgrade this workbook to the latest template",
            ),
            Button(
                "crm_help",
                "show_help",
                "帮助",
                "Help",
                "Help",
                "打开帮助",
                "Open the help",
            ),
        ),
    ),
)

BUTTONS: tuple[Button, ...] = tuple(b for g in GROUPS for b in g.buttons)
BUTTONS_BY_ID: dict[str, Button] = {b.id: b for b in BUTTONS}
