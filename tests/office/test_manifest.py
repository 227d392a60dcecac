"""The manifest the bridge serves at /office/manifest.xml: well-formed, in the order and
with the elements the add-in only manifest requires, valid against Microsoft's XSDs (when
present), its URLs from the public URL, its buttons the ribbon's, each command with a
handler in the JS client and in Python; served over TLS; refused over plain HTTP."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from lxml import etree

from addin import commands, xl_entry
from addin.office import manifest
from addin.office.icons import ICONS, expected
from addin.ribbon.buttons import BUTTONS, BUTTONS_BY_ID, GROUPS
from addin.ribbon.render import CUSTOMUI_NS, CUSTOMUI_PATH
from tests.office import manifest_checks as checks
from tests.office.service_env import office_bridge

PUBLIC = "https://crm.example.com"
STATIC = Path(manifest.__file__).resolve().parent / "static"


def _doc(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"))


@pytest.fixture(scope="module")
def doc() -> etree._Element:
    info = manifest.ManifestInfo(PUBLIC, str(uuid.uuid5(uuid.NAMESPACE_URL, PUBLIC)))
    return _doc(manifest.build_manifest(info))


def test_well_formed_in_the_required_order_with_every_required_element(
        doc: etree._Element) -> None:
    assert etree.QName(doc).namespace == manifest.NS
    assert doc.get(f"{{{manifest.NS_XSI}}}type") == "TaskPaneApp"
    assert checks.structure_problems(doc) == []
    assert doc.findtext("Permissions", namespaces=checks.Q) == "ReadWriteDocument"
    sets = {s.get("Name"): s.get("MinVersion") for s in doc.iterfind(
        "Requirements/Sets/Set", checks.Q)}
    assert sets == {"ExcelApi": manifest.EXCEL_API, "SharedRuntime": "1.1"}


def test_a_misplaced_element_is_caught(doc: etree._Element) -> None:
    bad = _doc(etree.tostring(doc).decode())
    version = bad.find("Version", checks.Q)
    bad.remove(version)
    bad.append(version)  # after VersionOverrides
    assert checks.structure_problems(bad) == [
        "OfficeApp: Version after VersionOverrides"]


def test_every_reference_resolves_and_every_text_fits(doc: etree._Element) -> None:
    assert checks.reference_problems(doc) == []
    broken = _doc(etree.tostring(doc).decode())
    broken.find(".//ov:Control/ov:Label", checks.Q).set("resid", "Nope.Label")
    assert checks.reference_problems(broken) == [
        "Label resid='Nope.Label': no such ShortStrings resource"]


def test_valid_against_microsofts_schemas(doc: etree._Element, tmp_path: Path) -> None:
    folder = checks.xsd_folder()
    if folder is None:
        pytest.skip("Microsoft's manifest XSDs are not in this checkout (see "
                    "tests/data/office_manifest/README.md; set CRM_OFFICE_XSD_DIR)")
    schema = checks.load_schema(folder, tmp_path / "xsd")
    assert not schema.validate(doc)  # Runtimes is newer than the published schemas ...
    assert "Runtimes" in str(schema.error_log.last_error)
    ok = schema.validate(checks.without_runtimes(doc))  # ... and the only difference
    assert ok, [e.message for e in schema.error_log]
    broken = checks.without_runtimes(doc)
    broken.find(".//ov:Control", checks.Q).remove(broken.find(".//ov:Control/ov:Supertip",
                                                               checks.Q))
    assert not schema.validate(broken)


def test_one_shared_runtime_behind_the_buttons_and_the_pane(doc: etree._Element) -> None:
    host = doc.find("ov:VersionOverrides/ov:Hosts/ov:Host", checks.Q)
    runtimes = host.findall("ov:Runtimes/ov:Runtime", checks.Q)
    assert [(r.get("resid"), r.get("lifetime")) for r in runtimes] == [
        (manifest.RUNTIME_URL, "long")]
    assert host.find(".//ov:FunctionFile", checks.Q).get("resid") == manifest.RUNTIME_URL
    urls = checks.resources(doc)["Urls"]
    assert urls[manifest.RUNTIME_URL].get("DefaultValue") == f"{PUBLIC}/office/taskpane.html"
    panes = doc.findall(".//ov:Action[ov:TaskpaneId]/ov:SourceLocation", checks.Q)
    assert panes and {p.get("resid") for p in panes} == {manifest.RUNTIME_URL}


def test_tab_groups_and_buttons_are_the_ribbons(doc: etree._Element) -> None:
    tab = doc.find(".//ov:CustomTab", checks.Q)
    assert tab.get("id") == "crmTab"
    got = [(g.get("id"), [c.get("id") for c in g.findall("ov:Control", checks.Q)])
           for g in tab.findall("ov:Group", checks.Q)]
    want = [(g.id, [b.id for b in g.buttons]) for g in GROUPS]
    want[-1][1].append(manifest.TASKPANE_BUTTON.id)  # the pane's button, last
    assert got == want
    strings = checks.resources(doc)["ShortStrings"]
    for b in BUTTONS:
        label = strings[f"{b.id}.Label"]
        assert label.get("DefaultValue") == b.label_en
        zh = label.find("bt:Override", checks.Q)
        assert (zh.get("Locale"), zh.get("Value")) == ("zh-CN", b.label_zh)
    tips = checks.resources(doc)["LongStrings"]
    assert {b.id: tips[f"{b.id}.Tip"].find("bt:Override", checks.Q).get("Value")
            for b in BUTTONS} == {b.id: b.screentip_zh for b in BUTTONS}


def test_command_ids_are_button_ids_and_each_handler_is_a_command(
        doc: etree._Element) -> None:
    names = [f.text for f in doc.iter(f"{{{manifest.NS_OV}}}FunctionName")]
    assert names == manifest.command_ids() == [b.id for b in BUTTONS]
    for name in names:
        handler = BUTTONS_BY_ID[name].handler
        assert handler in xl_entry.HANDLERS, name
        # the import's flow lives in addin.importing.run (dry run, then confirm)
        assert callable(getattr(commands, handler, None)) or handler == "import_file", name


LITERAL = re.compile(r"""Office\.actions\.associate\(\s*["'`]([\w.]+)["'`]""")
LOOP = re.compile(r"for\s*\(\s*(?:const|let|var)\s+(\w+)\s+of\s+(\w+)\s*\)")
QUOTED = re.compile(r"""["'`]([\w.]+)["'`]""")


def associated_ids(texts: list[str]) -> set[str]:
    """Function names the scripts bind with ``Office.actions.associate``: written out, or
    taken in a loop over an array of names (``for (const id of BUTTON_IDS)``)."""
    found = {m for t in texts for m in LITERAL.findall(t)}
    for text in texts:
        for var, array in LOOP.findall(text):
            if not re.search(rf"Office\.actions\.associate\(\s*{var}\b", text):
                continue
            for t in texts:
                for body in re.findall(rf"\b{array}\s*=\s*\[(.*?)\]", t, re.S):
                    found |= set(QUOTED.findall(body))
    return found


def test_associated_ids_are_read_both_ways() -> None:
    literal = 'Office.actions.associate("crm_pull", run);'
    loop = ('export const IDS = [\n "crm_push", "crm_help",\n];\n'
            'for (const id of IDS) {\n  Office.actions.associate(id, async (e) => {});\n}')
    assert associated_ids([literal, loop]) == {"crm_pull", "crm_push", "crm_help"}
    assert associated_ids(["for (const id of IDS) { other(id) }",
                           'const IDS = ["crm_push"];']) == set()


def test_every_command_id_has_a_handler_in_the_js_client(doc: etree._Element) -> None:
    scripts = [p for p in STATIC.rglob("*") if p.suffix in (".js", ".mjs")]
    assert scripts, "the JS client is missing"
    associated = associated_ids([p.read_text("utf-8") for p in scripts])
    names = {f.text for f in doc.iter(f"{{{manifest.NS_OV}}}FunctionName")}
    assert names - associated == set(), "no Office.actions.associate for these"


def test_every_customui_button_reaches_a_command() -> None:
    ui = etree.parse(str(CUSTOMUI_PATH)).getroot()
    ids = [b.get("id") for b in ui.iter(f"{{{CUSTOMUI_NS}}}button")]
    assert ids == [b.id for b in BUTTONS]
    for control in ids:
        handler = BUTTONS_BY_ID[control].handler
        assert handler in xl_entry.HANDLERS, control
        assert callable(getattr(commands, handler, None)) or handler == "import_file"


def test_every_icon_the_manifest_names_exists_at_its_size(doc: etree._Element) -> None:
    from PIL import Image

    named = {el.get("DefaultValue") for el in doc.iter() if isinstance(el.tag, str)
             and (el.get("DefaultValue") or "").endswith(".png")}
    files = {u.removeprefix(f"{PUBLIC}/office/static/icons/") for u in named}
    assert files <= set(expected()), files - set(expected())
    for name, size in expected().items():
        with Image.open(ICONS / name) as img:
            assert img.size == (size, size) and img.format == "PNG", name


# --- served by the bridge ---------------------------------------------------------------
def test_served_with_urls_from_the_public_url_and_a_stable_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch, CRM_PUBLIC_URL=PUBLIC + "/") as bridge:
        r = httpx.get(bridge.url + "/office/manifest.xml")
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "application/xml")
        doc = _doc(r.text)
        urls = [v for el in doc.iter() if isinstance(el.tag, str)
                for v in (el.get("DefaultValue") or "",) if "://" in v]
        assert urls and all(u.startswith(PUBLIC + "/office/") for u in urls), urls
        assert doc.findtext("AppDomains/AppDomain", namespaces=checks.Q) == PUBLIC
        assert doc.findtext("Id", namespaces=checks.Q) == str(
            uuid.uuid5(uuid.NAMESPACE_URL, PUBLIC + "/office"))
        assert httpx.get(bridge.url + "/office/manifest.xml").text == r.text


def test_the_id_setting_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = "0f8fad5b-d9cb-469f-a165-70867728950e"
    with office_bridge(tmp_path, monkeypatch, CRM_OFFICE_ADDIN_ID=mine) as bridge:
        doc = _doc(httpx.get(bridge.url + "/office/manifest.xml").text)
        assert doc.findtext("Id", namespaces=checks.Q) == mine
