// excel_apply.js against the strict fake: every op of addin/payload/actions.py applied,
// strings kept as text, few syncs, every request under 5 MB, failures naming the action.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { install, maxOf, PROTOCOL, sheetInfo } from "./helpers.mjs";
import { PAYLOAD_LIMIT } from "./fake_excel.mjs";
import { ActionError, HANDLED_OPS, applyActions, cellValue, columnPoints } from "../../../addin/office/static/excel_apply.js";

// one example of every op, in an order that makes sense applied one after the other
const SAMPLES = {
  add_sheet: { sheet: "Report", before: null, after: "Data" },
  rename_sheet: { sheet: "Old", to: "Renamed" },
  set_values: { sheet: "Data", row: 2, col: 1, values: [["0123", 5, true, null], ["=1+1", { f: "=SUM(B2:B2)" }, "2024-01-02", "plain"]] },
  clear: { sheet: "Data", row: 5, col: 1, rows: 1, cols: 2 },
  set_number_format: { sheet: "Data", row: 2, col: 3, rows: 2, cols: 1, format: "yyyy-mm-dd" },
  set_fill: { sheet: "Data", cells: [[2, 1], [3, 1], [4, 1], [2, 3]], color: "FFC7CE" },
  set_font: { sheet: "Data", row: 1, col: 1, rows: 1, cols: 4, bold: true, italic: null, size: 12, color: "1F4E78" },
  set_alignment: { sheet: "Data", row: 1, col: 1, rows: 1, cols: 4, horizontal: "center", wrap: true },
  merge: { sheet: "Report", row: 1, col: 1, rows: 1, cols: 3 },
  set_notes: { sheet: "Data", notes: [{ row: 2, col: 1, text: "mine\n\n—— CRM ——\nbad" }, { row: 9, col: 9, text: null }] },
  set_validation: { sheet: "Data", row: 2, col: 2, rows: 100, cols: 1, list: "=crm_list_stage", stop: true,
    error_title: "Stage", error: "Pick a stage from the list", prompt_title: "Stage", prompt: "The deal's stage" },
  set_name: { name: "crm_list_stage", ref: "'_lists'!$A$2:$A$5" },
  freeze: { sheet: "Data", row: 3, col: 3 },
  hide_rows: { sheet: "Data", rows: [1, 7, 8] },
  hide_cols: { sheet: "Data", cols: [4, 5] },
  set_column_widths: { sheet: "Data", widths: { 1: 12.5, 3: 20 } },
  page_setup: { sheet: "Report", landscape: true, fit_width: 1, title_rows: "1:4" },
  add_chart: { sheet: "Report", kind: "column", data: { row: 1, col: 1, rows: 3, cols: 2 }, anchor: { row: 6, col: 1 }, title: "Funnel" },
  set_visibility: { sheet: "_lists", state: "very_hidden" },
  activate: { sheet: "Report" },
  delete_sheet: { sheet: "Renamed" },
  open_workbook: { file: "upgraded.xlsx", name: "crm-upgraded.xlsx" },
};

function seeded(fake) {
  fake.seed({
    info: { name: "crm.xlsx", active: "Data", sheets: [sheetInfo("Data"), sheetInfo("Old"), sheetInfo("_lists")], names: [{ name: "crm_list_stage", ref: "'_lists'!$A$2:$A$3" }] },
    blocks: [{ sheet: "Data", row: 1, col: 1, values: [["a", "b", "c", "d"]] }, { sheet: "_lists", row: 1, col: 1, values: [["stage"], ["new"], ["won"]] }],
    notes: [{ sheet: "Data", notes: [{ row: 9, col: 9, text: "old note", author: "someone" }] }],
  });
}

let env;
beforeEach(() => { env = install(); seeded(env.fake); });

describe("the vocabulary", () => {
  test("excel_apply handles exactly the ops of protocol.json (generated from actions.py)", () => {
    assert.deepEqual([...HANDLED_OPS].sort(), Object.keys(PROTOCOL.ops).sort());
  });

  test("the samples carry exactly each op's keys", () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), Object.keys(PROTOCOL.ops).sort());
    for (const [op, keys] of Object.entries(PROTOCOL.ops)) assert.deepEqual(Object.keys(SAMPLES[op]).sort(), [...keys].sort(), op);
  });
});

describe("every op applied in one Excel.run", () => {
  test("the workbook afterwards", async () => {
    const actions = Object.entries(SAMPLES).map(([op, keys]) => ({ op, ...keys }));
    const result = await applyActions(actions);
    const state = env.fake.dump();
    const data = state.sheets.find((s) => s.name === "Data");
    const report = state.sheets.find((s) => s.name === "Report");
    assert.deepEqual(state.sheets.map((s) => s.name), ["Data", "Report", "_lists"]);
    assert.equal(state.active, "Report");
    assert.equal(state.sheets[2].visibility, "very_hidden");
    // strings stay text, formulas are formulas, null empties, booleans and numbers stay
    assert.deepEqual(data.values[1], ["0123", 5, true, null]);
    assert.deepEqual(data.values[2], ["=1+1", { f: "=SUM(B2:B2)" }, "2024-01-02", "plain"]);
    assert.equal(data.formats["2,3"], "yyyy-mm-dd");
    assert.deepEqual(Object.keys(data.fills).sort(), ["2,1", "2,3", "3,1", "4,1"]);
    assert.equal(data.fills["2,1"], "FFC7CE");
    assert.deepEqual(data.fonts["1,1"], { bold: true, italic: false, size: 12, color: "#1F4E78" });
    assert.deepEqual(data.notes, [{ row: 2, col: 1, text: "mine\n\n—— CRM ——\nbad", author: "Fake User" }]);
    assert.deepEqual(data.validations, [{ address: "B2:B101", rule: { list: { inCellDropDown: true, source: "=crm_list_stage" } },
      errorAlert: { showAlert: true, style: "Stop", title: "Stage", message: "Pick a stage from the list" },
      prompt: { showPrompt: true, title: "Stage", message: "The deal's stage" } }]);
    assert.equal(state.names.crm_list_stage, "='_lists'!$A$2:$A$5");
    assert.deepEqual(data.freeze, [3, 3]);
    assert.deepEqual(data.hiddenRows, [1, 7, 8]);
    assert.deepEqual(data.hiddenCols, [4, 5]);
    assert.deepEqual(data.widths, { 1: columnPoints(12.5), 3: columnPoints(20) });
    assert.deepEqual(report.merges, ["A1:C1"]);
    assert.deepEqual(report.pageLayout, { orientation: "Landscape", zoom: { horizontalFitToPages: 1, verticalFitToPages: 0 }, printTitleRows: "$1:$4" });
    assert.deepEqual(report.charts, [{ name: "Chart 1", type: "ColumnClustered", seriesBy: "Columns", source: "Report!A1:B3",
      title: "Funnel", anchor: "Report!A6", width: 360, height: 216, series: [] }]);
    assert.deepEqual(result.opened, [{ file: "upgraded.xlsx", name: "crm-upgraded.xlsx" }]);
    // one sync for what the ops must know first (sheets, names, notes), one for the notes
    // probes, one for everything else
    assert.equal(result.syncs, 3);
    assert.equal(env.fake.stats.syncs, 3);
  });
});

describe("charts", () => {
  test("series that are not the columns next to the categories are added one by one, named by their header", async () => {
    const actions = [
      { op: "set_values", sheet: "Data", row: 10, col: 1, values: [["month", "skip", "won", "lost"], ["2026-01", 1, 5, 2], ["2026-02", 1, 7, 1]] },
      { op: "add_chart", sheet: "Data", kind: "line", data: { row: 10, col: 1, rows: 3, cols: 4, series: [3, 4] },
        anchor: { row: 1, col: 8, width: 480, height: 240 }, title: "Won and lost" },
    ];
    const got = await applyActions(actions);
    const [chart] = env.fake.dump().sheets[0].charts;
    assert.equal(chart.source, "Data!A10:B12");
    assert.deepEqual(chart.series, [{ name: "lost", values: "Data!D11:D12", categories: "Data!A11:A12" }]);
    assert.deepEqual([chart.width, chart.height, chart.anchor, chart.type], [480, 240, "Data!H1", "Line"]);
    assert.equal(got.syncs, 3); // the values, the header names, the chart
  });
});

describe("text stays text", () => {
  const risky = ["0123", "=1+1", "+1", "-5", "1e5", "2024-01-02", "1/2/2024", "10:30", "5%", "$5", "TRUE", "false",
    "#N/A", "'quoted", "@name", " 12", "1,234", "电话 138 0000 0000", "2024年1月2日"];

  test("a string Excel would convert is written with a leading apostrophe and reads back equal", async () => {
    await applyActions([{ op: "set_values", sheet: "Data", row: 2, col: 1, values: risky.map((s) => [s]) }]);
    const data = env.fake.dump().sheets[0];
    assert.deepEqual(data.values.slice(1).map((r) => r[0]), risky);
    assert.equal(data.quoted.length, risky.length);
  });

  test("without the guard the fake converts them (the guard is what keeps them)", async () => {
    await env.fake.Excel.run(async (ctx) => {
      ctx.workbook.worksheets.getItem("Data").getRange("A2:A4").values = [["0123"], ["=1+1"], ["2024-01-02"]];
      await ctx.sync();
    });
    const col = env.fake.dump().sheets[0].values.slice(1).map((r) => r[0]);
    assert.deepEqual(col, [123, { f: "=1+1" }, 45293]);
  });

  test("plain words are sent as they are", () => {
    assert.equal(cellValue("Acme Trading"), "Acme Trading");
    assert.equal(cellValue("上海某某贸易有限公司"), "上海某某贸易有限公司");
    assert.equal(cellValue(null), "");
    assert.equal(cellValue({ f: "A1*2" }), "=A1*2");
  });
});

describe("large writes", () => {
  test("100,000 rows of set_values: each request under 5 MB, few syncs, all rows there", async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => [`C${i}`, i, `name ${i}`, "2024-01-02", i % 2 === 0]);
    const t0 = Date.now();
    const got = await applyActions([{ op: "set_values", sheet: "Data", row: 2, col: 1, values: rows },
      { op: "set_number_format", sheet: "Data", row: 2, col: 4, rows: 100_000, cols: 1, format: "yyyy-mm-dd" }]);
    const ms = Date.now() - t0;
    assert.ok(maxOf(env.fake.stats.requests) < PAYLOAD_LIMIT, `largest request ${maxOf(env.fake.stats.requests)}`);
    assert.ok(got.syncs <= 6, `${got.syncs} syncs`);
    const sheet = env.fake.book.sheet("Data");
    assert.equal(sheet.get(100_000, 0), "C99999");
    assert.equal(sheet.get(100_000, 3), "2024-01-02");
    assert.equal(sheet.format(100_000, 3), "yyyy-mm-dd");
    console.log(`# 100k rows applied in ${got.syncs} syncs, ${ms} ms, largest request ${maxOf(env.fake.stats.requests)} bytes`);
  });
});

describe("failures say which action", () => {
  test("an unknown sheet fails at sync naming the action and op", async () => {
    const actions = [{ op: "set_values", sheet: "Data", row: 1, col: 1, values: [["x"]] },
      { op: "set_visibility", sheet: "Nope", state: "hidden" }];
    await assert.rejects(applyActions(actions), (err) => err instanceof ActionError && err.index === 0 && /set_visibility/.test(err.message) && /ItemNotFound/.test(err.message));
  });

  test("a bad action fails before anything is sent, naming its index", async () => {
    const actions = [{ op: "set_values", sheet: "Data", row: 1, col: 1, values: [["x"]] },
      { op: "set_values", sheet: "Data", row: 1, col: 1, values: [["x"], ["y", "z"]] }];
    await assert.rejects(applyActions(actions), (err) => err instanceof ActionError && err.index === 1 && err.op === "set_values");
    assert.equal(env.fake.dump().sheets[0].values[0][0], "a"); // nothing written
  });

  test("an unknown op is refused with its index", async () => {
    await assert.rejects(applyActions([{ op: "explode", sheet: "Data" }]), (err) => err.index === 0 && /unknown op/.test(err.message));
  });

  test("hiding the last visible sheet is refused by Excel and reported", async () => {
    const actions = ["_lists", "Data", "Old"].map((sheet) => ({ op: "set_visibility", sheet, state: "hidden" }));
    await assert.rejects(applyActions(actions), (err) => err instanceof ActionError && /InvalidOperation/.test(err.message));
  });
});

describe("notes", () => {
  test("a note is added, replaced and deleted; the user's other notes stay", async () => {
    await applyActions([{ op: "set_notes", sheet: "Data", notes: [{ row: 2, col: 2, text: "one" }] }]);
    await applyActions([{ op: "set_notes", sheet: "Data", notes: [{ row: 2, col: 2, text: "two" }, { row: 3, col: 3, text: "three" }] }]);
    await applyActions([{ op: "set_notes", sheet: "Data", notes: [{ row: 3, col: 3, text: null }] }]);
    const notes = env.fake.dump().sheets[0].notes.map((n) => [n.row, n.col, n.text]);
    assert.deepEqual(notes.sort(), [[2, 2, "two"], [9, 9, "old note"]]);
  });

  test("on a sheet added in the same page", async () => {
    await applyActions([{ op: "add_sheet", sheet: "New", before: null, after: null },
      { op: "set_notes", sheet: "New", notes: [{ row: 1, col: 1, text: "hi" }] }]);
    assert.deepEqual(env.fake.dump().sheets.at(-1).notes.map((n) => n.text), ["hi"]);
  });

  test("where Excel has no notes API they are skipped with a warning", async () => {
    env = install({ notes: false });
    seeded(env.fake);
    const got = await applyActions([{ op: "set_notes", sheet: "Data", notes: [{ row: 2, col: 2, text: "x" }] }], { notesOk: false });
    assert.deepEqual(got.warnings, ["notes"]);
  });
});

describe("sheets", () => {
  test("add before and after, rename, then write to the renamed one in the same page", async () => {
    await applyActions([
      { op: "add_sheet", sheet: "First", before: "Data", after: null },
      { op: "add_sheet", sheet: "AfterOld", before: null, after: "Old" },
      { op: "rename_sheet", sheet: "Old", to: "Older" },
      { op: "set_values", sheet: "Older", row: 1, col: 1, values: [["here"]] },
    ]);
    const state = env.fake.dump();
    assert.deepEqual(state.sheets.map((s) => s.name), ["First", "Data", "Older", "AfterOld", "_lists"]);
    assert.equal(state.sheets[2].values[0][0], "here");
  });

  test("a validation message longer than Excel allows is cut to its limits", async () => {
    const long = "x".repeat(400);
    await applyActions([{ op: "set_validation", sheet: "Data", row: 2, col: 1, rows: 1, cols: 1, list: null, stop: false,
      error_title: "", error: "", prompt_title: "t".repeat(40), prompt: long }]);
    const v = env.fake.dump().sheets[0].validations[0];
    assert.equal(v.prompt.message.length, 255);
    assert.equal(v.prompt.title.length, 32);
    assert.equal(v.rule, null);
  });
});
