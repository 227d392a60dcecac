// runner.js end to end in Node: the fake Excel on one side, an in-memory stand-in of the
// session protocol on the other (the real service is tested from Chromium): what is
// uploaded, in what order, how pages and files come back and land in the workbook.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { install, sheetInfo } from "./helpers.mjs";
import { Protocol, bytesToBase64 } from "../../../addin/office/static/protocol.js";
import { runCommand } from "../../../addin/office/static/runner.js";
import { BUTTON_IDS, associateAll } from "../../../addin/office/static/commands.js";
import { clearSignIn, dialogUrl, loadSignIn, openSignInDialog, saveSignIn } from "../../../addin/office/static/auth.js";

const XLSX = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7]);

function service({ pages = 2, upload = ["客户", "_meta"] } = {}) {
  // the session protocol in memory: the run upper-cases column B of 客户 over `pages` pages
  const state = { opened: null, cells: [], notes: [], files: {}, deleted: false, calls: [] };
  const json = (status, body) => ({ ok: status < 300, status, headers: { get: () => null },
    async json() { return body; }, async text() { return body === undefined ? "" : JSON.stringify(body); } });
  const fetcher = async (url, init) => {
    const body = init.body ? JSON.parse(init.body) : undefined;
    state.calls.push(`${init.method} ${url.replace(/^api/, "")}`);
    if (init.headers.Authorization !== "Bearer T") return json(401, { error: { code: "AUTH_INVALID", message_zh: "令牌无效", message_en: "Bad token" } });
    const path = url.replace(/^api/, "");
    if (path === "/sessions") { state.opened = body; return json(201, { session: "s9", upload, max_bytes: 4_000_000 }); }
    if (path === "/sessions/s9/cells") { state.cells.push(body); return json(204); }
    if (path === "/sessions/s9/notes") { state.notes.push(body); return json(204); }
    if (path.startsWith("/sessions/s9/files/") && init.method === "POST") { (state.files[path] ??= []).push(body); return json(204); }
    if (path === "/sessions/s9/run") return json(200, { result: { command: state.opened.command, ok: true, lang: "zh", counts: { updated: 2 }, lines: ["ok"], messages: [], conflicts: [] }, pages, files: [{ name: "upgraded.xlsx", parts: 1, bytes: XLSX.length }] });
    const page = /^\/sessions\/s9\/actions\/(\d+)$/.exec(path);
    if (page) {
      const k = Number(page[1]);
      const rows = state.cells.filter((b) => b.sheet === "客户").flatMap((b) => b.values);
      const upper = rows.slice(2).map((r) => [String(r[1]).toUpperCase()]);
      const actions = k === 0
        ? [{ op: "set_values", sheet: "客户", row: 3, col: 2, values: upper.slice(0, 1) }]
        : [{ op: "set_values", sheet: "客户", row: 4, col: 2, values: upper.slice(1) },
          { op: "set_notes", sheet: "客户", notes: [{ row: 3, col: 2, text: "—— CRM ——\nchanged" }] },
          { op: "open_workbook", file: "upgraded.xlsx", name: "crm-upgraded.xlsx" }];
      return json(200, { page: k, pages, actions });
    }
    if (path === "/sessions/s9/files/upgraded.xlsx?part=0") return json(200, { part: 0, parts: 1, base64: bytesToBase64(XLSX) });
    if (path === "/sessions/s9" && init.method === "DELETE") { state.deleted = true; return json(204); }
    return json(404, { error: { code: "NOT_FOUND", message_zh: "没有", message_en: "Not found" } });
  };
  return { state, protocol: new Protocol({ base: "api", token: "T", fetch: fetcher, sleep: async () => {} }) };
}

function seed(fake) {
  fake.seed({
    info: { name: "crm.xlsx", active: "客户", sheets: [sheetInfo("客户"), sheetInfo("销售漏斗"), sheetInfo("_meta", { visibility: "hidden" })] },
    blocks: [
      { sheet: "客户", row: 1, col: 1, values: [["crm_id", "name"], ["", ""], ["C1", "acme"], ["C2", "globex"]] },
      { sheet: "销售漏斗", row: 1, col: 1, values: [["report"]] },
      { sheet: "_meta", row: 1, col: 1, values: [["key", "value"], ["lang", "zh"]] },
    ],
    notes: [{ sheet: "客户", notes: [{ row: 4, col: 2, text: "a user's", author: "li" }] }],
  });
}

let env;
beforeEach(() => { env = install(); seed(env.fake); });

describe("runCommand", () => {
  test("uploads the sheets asked for, applies every page in order, opens the produced file", async () => {
    const svc = service();
    const stages = [];
    const out = await runCommand({ command: "pull", lang: "zh", protocol: svc.protocol, onProgress: (p) => stages.push(p.stage) });
    assert.equal(svc.state.opened.command, "pull");
    assert.deepEqual(svc.state.opened.workbook.sheets.map((s) => [s.name, s.rows, s.cols]), [["客户", 4, 2], ["销售漏斗", 1, 1], ["_meta", 2, 2]]);
    assert.deepEqual(svc.state.cells.map((b) => b.sheet), ["客户", "_meta"]); // not the report sheet
    assert.deepEqual(svc.state.notes, [{ sheet: "客户", notes: [{ row: 4, col: 2, text: "a user's", author: "li", fill: null }] }]);
    const data = env.fake.dump().sheets[0];
    assert.deepEqual(data.values.slice(2).map((r) => r[1]), ["ACME", "GLOBEX"]);
    assert.ok(data.notes.some((n) => n.text === "—— CRM ——\nchanged"));
    assert.equal(env.fake.book.opened.length, 1);
    assert.deepEqual(out.files.map((f) => [f.name, f.shown]), [["crm-upgraded.xlsx", true]]);
    assert.equal(out.applied.actions, 4);
    assert.ok(svc.state.deleted);
    assert.deepEqual([...new Set(stages)], ["reading", "uploading", "running", "applying", "downloading", "done"]);
    assert.deepEqual(svc.state.calls.filter((c) => c.includes("/actions/")), ["GET /sessions/s9/actions/0", "GET /sessions/s9/actions/1"]);
  });

  test("an import uploads the picked file in parts and names it in the options", async () => {
    const svc = service({ pages: 0 });
    await runCommand({ command: "import_file", lang: "en", protocol: svc.protocol, file: { name: "old.csv", bytes: new Uint8Array([65, 66]) } });
    assert.deepEqual(svc.state.opened.options, { file: "old.csv" });
    assert.deepEqual(svc.state.files["/sessions/s9/files/old.csv"].map((p) => [p.part, p.parts]), [[0, 1]]);
  });

  test("a bad token fails with the service's message and opens nothing", async () => {
    const svc = service();
    svc.protocol.token = "expired";
    const err = await runCommand({ command: "push", lang: "en", protocol: svc.protocol }).catch((e) => e);
    assert.equal(err.signedOut, true);
    assert.equal(err.text("en"), "Bad token");
  });

  test("without the notes API nothing is read or written of notes, and it says so", async () => {
    env = install({ notes: false });
    seed(env.fake);
    const svc = service();
    const out = await runCommand({ command: "pull", lang: "zh", protocol: svc.protocol });
    assert.deepEqual(svc.state.notes, []);
    assert.deepEqual(out.applied.warnings, ["notes"]);
  });
});

describe("ribbon commands", () => {
  test("every button id is associated; a click shows the task pane, presses, completes", async () => {
    const pressed = [];
    associateAll(async (id) => { pressed.push(id); });
    assert.deepEqual([...env.office.__calls.associated.keys()], BUTTON_IDS);
    assert.equal(await env.office.__click("crm_pull"), true);
    assert.equal(env.office.__calls.taskpane, 1);
    assert.deepEqual(pressed, ["crm_pull"]);
  });
});

describe("sign-in", () => {
  test("the token lives in OfficeRuntime.storage, never in the workbook; sign-out removes it", async () => {
    await saveSignIn({ token: "crm_t", user: { username: "zhang.wei" } });
    assert.deepEqual(await loadSignIn(), { token: "crm_t", user: { username: "zhang.wei" } });
    assert.ok([...env.runtime.__items.values()].some((v) => v.includes("crm_t")));
    assert.ok(!JSON.stringify(env.fake.dump()).includes("crm_t"));
    await clearSignIn();
    assert.equal(await loadSignIn(), null);
  });

  test("the dialog's message comes back as the sign-in; closing it gives null", async () => {
    globalThis.location = new URL("https://crm.example.com/office/taskpane.html");
    env = install({ openDialog: (url, dialog) => setTimeout(() => dialog.__message(JSON.stringify({ token: "crm_new", user: { username: "li" } }))) });
    assert.equal(dialogUrl("zh"), "https://crm.example.com/office/signin.html?lang=zh");
    assert.deepEqual(await openSignInDialog("zh"), { token: "crm_new", user: { username: "li" } });
    assert.ok(env.office.__calls.dialogs[0].closed);
    env = install({ openDialog: (url, dialog) => setTimeout(() => dialog.__closeByUser()) });
    assert.equal(await openSignInDialog("en"), null);
    delete globalThis.location;
  });
});
