"""The Office add-in's XML manifest (add-in only manifest, schema 1.1), derived from the
ribbon's declaration (:mod:`addin.ribbon.buttons`): a custom CRM tab with the same groups and
buttons as the xlwings ribbon, each an ``ExecuteFunction`` named for its ``Button.id``
(the JavaScript client associates each with ``Office.actions.associate``), labels and tips
in English with zh-CN overrides, and one shared runtime (``taskpane.html``, SharedRuntime
1.1) behind the buttons and the task pane.

Every URL comes from the public base URL. The requirement is ExcelApi 1.10 (the commands
read and write ranges, names, validation and visibility); reading and writing cell notes
needs ExcelApi 1.18, which the client checks at run time (``isSetSupported``) and does
without where it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from xml.sax.saxutils import escape, quoteattr

from addin.ribbon.buttons import GROUPS, TAB_ID, TAB_LABEL_EN, TAB_LABEL_ZH, Button

NS = "http://schemas.microsoft.com/office/appforoffice/1.1"
NS_BT = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
NS_OV = "http://schemas.microsoft.com/office/taskpaneappversionoverrides"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
EXCEL_API = "1.10"  # the base requirement
NOTES_EXCEL_API = "1.18"  # Range notes (Excel.Note): checked by the client at run time
ZH = "zh-CN"
APP_ICON_SIZES = (16, 32, 64, 80)
BUTTON_ICON_SIZES = (16, 32, 80)
TASKPANE_BUTTON = Button("crm_taskpane", "", "任务窗格", "Task pane", "",
                         "显示 CRM 任务窗格：进度、每行结果、冲突和消息",
                         "Show the CRM task pane: progress, per-row results, conflicts and "
                         "messages")
# a control that opens the pane; not a command (no FunctionName, no handler)
RUNTIME_URL = "Taskpane.Url"
Node = tuple[str, dict[str, str], list["Node"] | str | None]


def E(tag: str, attrs: dict[str, str] | None = None,
      body: list[Node] | str | None = None) -> Node:
    return (tag, attrs or {}, body)


def render(node: Node, depth: int = 0) -> str:
    tag, attrs, body = node
    pad = "  " * depth
    head = tag + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    if body is None or body == []:
        return f"{pad}<{head}/>"
    if isinstance(body, str):
        return f"{pad}<{head}>{escape(body)}</{tag}>"
    inner = "\n".join(render(child, depth + 1) for child in body)
    return f"{pad}<{head}>\n{inner}\n{pad}</{tag}>"


@dataclass(frozen=True)
class ManifestInfo:
    """What one deployment's manifest says beyond the ribbon."""

    base: str  # public base URL, e.g. https://crm.example.com (no trailing /)
    addin_id: str
    provider: str = "Excel CRM"
    version: str = ""

    def url(self, path: str) -> str:
        return f"{self.base.rstrip('/')}/office/{path.lstrip('/')}"


def manifest_version() -> str:
    """The package version as Office wants it (four numbers)."""
    try:
        text = version("excel-crm")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        text = "0.0.0"
    nums = [n for n in (p.split("+")[0] for p in text.split(".")) if n.isdigit()][:4]
    return ".".join(nums + ["0"] * (4 - len(nums)))


def app_icon(size: int) -> str:
    return f"static/icons/crm-{size}.png"


def button_icon(button_id: str, size: int) -> str:
    return f"static/icons/{button_id}-{size}.png"


def _localised(tag: str, en: str, zh: str) -> Node:
    return E(tag, {"DefaultValue": en}, [E("Override", {"Locale": ZH, "Value": zh})])


def _base(info: ManifestInfo) -> list[Node]:
    """The OfficeApp elements before VersionOverrides, in schema order."""
    return [
        E("Id", None, info.addin_id),
        E("Version", None, info.version or manifest_version()),
        E("ProviderName", None, info.provider),
        E("DefaultLocale", None, "en-US"),
        _localised("DisplayName", "Excel CRM", "Excel CRM"),
        _localised("Description", "Pull, validate and push CRM data; refresh the reports.",
                   "拉取、校验、推送 CRM 数据，刷新报表。"),
        E("IconUrl", {"DefaultValue": info.url(app_icon(32))}),
        E("HighResolutionIconUrl", {"DefaultValue": info.url(app_icon(64))}),
        E("SupportUrl", {"DefaultValue": info.url("")}),
        E("AppDomains", None, [E("AppDomain", None, info.base.rstrip("/"))]),
        E("Hosts", None, [E("Host", {"Name": "Workbook"})]),
        E("Requirements", None, [E("Sets", {"DefaultMinVersion": "1.1"}, [
            E("Set", {"Name": "ExcelApi", "MinVersion": EXCEL_API}),
            E("Set", {"Name": "SharedRuntime", "MinVersion": "1.1"}),
        ])]),
        E("DefaultSettings", None, [E("SourceLocation",
                                      {"DefaultValue": info.url("taskpane.html")})]),
        E("Permissions", None, "ReadWriteDocument"),
    ]


def _icon(res: str, sizes: tuple[int, ...] = BUTTON_ICON_SIZES) -> Node:
    return E("Icon", None, [E("bt:Image", {"size": str(s), "resid": f"{res}.{s}"})
                            for s in sizes])


def _control(b: Button) -> Node:
    if b is TASKPANE_BUTTON:
        action = E("Action", {"xsi:type": "ShowTaskpane"}, [
            E("TaskpaneId", None, "crmTaskpane"), E("SourceLocation", {"resid": RUNTIME_URL})])
    else:
        action = E("Action", {"xsi:type": "ExecuteFunction"}, [E("FunctionName", None, b.id)])
    return E("Control", {"xsi:type": "Button", "id": b.id}, [
        E("Label", {"resid": f"{b.id}.Label"}),
        E("Supertip", None, [E("Title", {"resid": f"{b.id}.Label"}),
                             E("Description", {"resid": f"{b.id}.Tip"})]),
        _icon(f"{b.id}.Icon"),
        action,
    ])


def buttons_of(group_index: int) -> tuple[Button, ...]:
    """A group's buttons in the manifest: the ribbon's, and the task pane button last in
    the last group."""
    extra = (TASKPANE_BUTTON,) if group_index == len(GROUPS) - 1 else ()
    return GROUPS[group_index].buttons + extra


def _tab() -> Node:
    groups = [E("Group", {"id": g.id}, [
        E("Label", {"resid": f"{g.id}.Label"}), _icon("App.Icon"),
        *[_control(b) for b in buttons_of(i)]]) for i, g in enumerate(GROUPS)]
    return E("CustomTab", {"id": TAB_ID}, [*groups, E("Label", {"resid": "Tab.Label"})])


def _host() -> Node:
    return E("Host", {"xsi:type": "Workbook"}, [
        E("Runtimes", None, [E("Runtime", {"resid": RUNTIME_URL, "lifetime": "long"})]),
        E("DesktopFormFactor", None, [
            E("GetStarted", None, [E("Title", {"resid": "GetStarted.Title"}),
                                   E("Description", {"resid": "GetStarted.Description"}),
                                   E("LearnMoreUrl", {"resid": "Help.Url"})]),
            E("FunctionFile", {"resid": RUNTIME_URL}),
            E("ExtensionPoint", {"xsi:type": "PrimaryCommandSurface"}, [_tab()]),
        ]),
    ])


def strings() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(short, long) strings as (id, en, zh): labels up to 125 characters, tips up to 250."""
    short = [("Tab.Label", TAB_LABEL_EN, TAB_LABEL_ZH),
             ("GetStarted.Title", "The CRM tab is ready", "CRM 选项卡已就绪")]
    long = [("GetStarted.Description",
             "Open a CRM workbook, click Sign in on the CRM tab, then Pull.",
             "打开 CRM 工作簿，在 CRM 选项卡上点击“登录”，然后点击“拉取”。")]
    short += [(f"{g.id}.Label", g.label_en, g.label_zh) for g in GROUPS]
    for i in range(len(GROUPS)):
        for b in buttons_of(i):
            short.append((f"{b.id}.Label", b.label_en, b.label_zh))
            long.append((f"{b.id}.Tip", b.screentip_en, b.screentip_zh))
    return short, long


def _resources(info: ManifestInfo) -> Node:
    images = [E("bt:Image", {"id": f"App.Icon.{s}", "DefaultValue": info.url(app_icon(s))})
              for s in BUTTON_ICON_SIZES]
    images += [E("bt:Image", {"id": f"{b.id}.Icon.{s}",
                              "DefaultValue": info.url(button_icon(b.id, s))})
               for i in range(len(GROUPS)) for b in buttons_of(i) for s in BUTTON_ICON_SIZES]
    urls = [E("bt:Url", {"id": RUNTIME_URL, "DefaultValue": info.url("taskpane.html")}),
            E("bt:Url", {"id": "Help.Url", "DefaultValue": info.url("")})]
    short, long = strings()

    def texts(rows: list[tuple[str, str, str]]) -> list[Node]:
        return [E("bt:String", {"id": i, "DefaultValue": en},
                  [E("bt:Override", {"Locale": ZH, "Value": zh})]) for i, en, zh in rows]

    return E("Resources", None, [E("bt:Images", None, images), E("bt:Urls", None, urls),
                                 E("bt:ShortStrings", None, texts(short)),
                                 E("bt:LongStrings", None, texts(long))])


def build_manifest(info: ManifestInfo) -> str:
    """The manifest XML for one deployment."""
    overrides = E("VersionOverrides", {"xmlns": NS_OV, "xsi:type": "VersionOverridesV1_0"},
                  [E("Hosts", None, [_host()]), _resources(info)])
    root = E("OfficeApp", {"xmlns": NS, "xmlns:xsi": NS_XSI, "xmlns:bt": NS_BT,
                           "xmlns:ov": NS_OV, "xsi:type": "TaskPaneApp"},
             [*_base(info), overrides])
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + render(root) + "\n"


def command_ids() -> list[str]:
    """Every ``FunctionName`` of the manifest: the ribbon's button ids."""
    return [b.id for g in GROUPS for b in g.buttons]
