// excel_read.js against the strict fake: the snapshot a host sends (addin/payload/snapshot.py).
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { install, maxOf, sheetInfo } from "./helpers.mjs";
import { PAYLOAD_LIMIT } from "./fake_excel.mjs";
import { byteLength, findColumn, readBlocks, readHeaders, readMeta, readNotes, readWorkbookInfo, selectCell, splitBlock } from "../../../addin/office/static/excel_read.js";

function seed(fake, rows = 3) {
  const data = [["crm_id", "name", "signed", "amount"], ["", "", "", ""]];
  for (let i = 0; i < rows; i++) data.push([`C${i}`, `客户 ${i}`, 45000 + i, i * 1.5]);
  fake.seed({
    info: {
      name: "crm.xlsx", active: "客户",
      sheets: [sheetInfo("客户", { freeze: [3, 3] }), sheetInfo("_meta", { visibility: "hidden" }), sheetInfo("_lists", { visibility: "very_hidden" }), sheetInfo("Empty", { freeze: [2, 1] })],
      names: [{ name: "crm_list_stage", ref: "'_lists'!$A$2:$A$5" }],
    },
    blocks: [
      { sheet: "客户", row: 1, col: 1, values: data, formats: { 2: [{ format: "yyyy-mm-dd", start: 2, count: rows }] } },
      { sheet: "_meta", row: 1, col: 1, values: [["key", "value"], ["lang", "zh"], ["cursor", "42"]] },
    ],
    notes: [{ sheet: "客户", notes: [{ row: 3, col: 2, text: "check\n\n—— CRM ——\nname missing", author: "", fill: "FFC7CE" }, { row: 4, col: 1, text: "a user's note", author: "li.na" }] }],
  });
}

let env;
beforeEach(() => { env = install(); seed(env.fake); });

describe("the workbook info", () => {
  test("sheets in order with visibility, used extent and freeze; active sheet; names", async () => {
    const info = await readWorkbookInfo();
    assert.deepEqual(info, {
      name: "crm.xlsx", active: "客户",
      sheets: [
        { name: "客户", visibility: "visible", rows: 5, cols: 4, freeze: [3, 3] },
        { name: "_meta", visibility: "hidden", rows: 3, cols: 2, freeze: null },
        { name: "_lists", visibility: "very_hidden", rows: 0, cols: 0, freeze: null },
        { name: "Empty", visibility: "visible", rows: 0, cols: 0, freeze: [2, 1] },
      ],
      names: [{ name: "crm_list_stage", ref: "='_lists'!$A$2:$A$5" }],
    });
    assert.equal(env.fake.stats.syncs, 2);
  });
});

describe("cell blocks", () => {
  test("values as Range.values gives them, number formats as runs per column", async () => {
    const blocks = [];
    await readBlocks("客户", 5, 4, { maxBytes: 4_000_000, onBlock: async (b) => { blocks.push(b); } });
    assert.equal(blocks.length, 1);
    assert.deepEqual(blocks[0].values[2], ["C0", "客户 0", 45000, 0]);
    assert.deepEqual(blocks[0].values[1], ["", "", "", ""]);
    assert.deepEqual(blocks[0].formats, { 2: [{ format: "yyyy-mm-dd", start: 2, count: 3 }] });
  });

  test("30,000 rows in batches under the byte limit, reassembled equal", async () => {
    env = install();
    seed(env.fake, 30_000);
    const blocks = [];
    const maxBytes = 200_000;
    const sent = await readBlocks("客户", 30_002, 4, { maxBytes, onBlock: async (b) => { blocks.push(b); } });
    assert.equal(sent, blocks.length);
    assert.ok(blocks.length > 5, `${blocks.length} blocks`);
    for (const b of blocks) assert.ok(byteLength(b) <= maxBytes, `block of ${byteLength(b)} bytes`);
    const rows = blocks.flatMap((b) => b.values);
    assert.equal(rows.length, 30_002);
    assert.deepEqual(rows[30_001], ["C29999", "客户 29999", 45000 + 29999, 29999 * 1.5]);
    assert.deepEqual(blocks.map((b) => b.row), blocks.map((_, i) => 1 + blocks.slice(0, i).reduce((n, x) => n + x.values.length, 0)));
    const dated = blocks.flatMap((b) => (b.formats[2] ?? []).map((r) => ({ ...r, start: r.start + b.row - 1 })));
    assert.equal(dated.reduce((n, r) => n + r.count, 0), 30_000);
    assert.ok(maxOf(env.fake.stats.responses) < PAYLOAD_LIMIT);
  });

  test("a batch Excel refuses as too large is halved and read again", async () => {
    env = install();
    const wide = "x".repeat(2000);
    const values = Array.from({ length: 3000 }, (_, i) => [i, wide]);
    env.fake.seed({ info: { sheets: [sheetInfo("S")] }, blocks: [{ sheet: "S", row: 1, col: 1, values }] });
    const blocks = [];
    await readBlocks("S", 3000, 2, { maxBytes: 4_000_000, onBlock: async (b) => { blocks.push(b); } });
    assert.deepEqual(blocks.flatMap((b) => b.values), values);
    const refused = env.fake.stats.responses.filter((n) => n > PAYLOAD_LIMIT);
    assert.equal(refused.length, 1); // the first guess, then every batch fits
    assert.ok(blocks.every((b) => byteLength(b) <= 4_000_000));
  });

  test("splitBlock keeps rows and format runs in their places", () => {
    const block = { sheet: "S", row: 10, col: 1, values: Array.from({ length: 8 }, (_, i) => [i, "y".repeat(50)]),
      formats: { 0: [{ format: "0.00", start: 2, count: 5 }] } };
    const parts = splitBlock(block, 300);
    assert.ok(parts.length > 1);
    assert.deepEqual(parts.flatMap((p) => p.values), block.values);
    const runs = parts.flatMap((p) => (p.formats[0] ?? []).map((r) => [r.start + p.row - block.row, r.count]));
    assert.equal(runs.reduce((n, [, c]) => n + c, 0), 5);
    assert.equal(Math.min(...runs.map(([s]) => s)), 2);
  });
});

describe("notes", () => {
  test("each with its author and its cell's fill", async () => {
    const notes = await readNotes(["客户", "_meta"]);
    assert.deepEqual(notes, [
      { sheet: "客户", notes: [
        { row: 3, col: 2, text: "check\n\n—— CRM ——\nname missing", author: "", fill: "FFC7CE" },
        { row: 4, col: 1, text: "a user's note", author: "li.na", fill: null },
      ] },
      { sheet: "_meta", notes: [] },
    ]);
  });

  test("null where Excel lacks the notes API (ExcelApi 1.18)", async () => {
    env = install({ notes: false });
    seed(env.fake);
    assert.equal(await readNotes(["客户"]), null);
  });
});

describe("the rest", () => {
  test("readMeta reads the hidden key/value sheet", async () => {
    assert.deepEqual(await readMeta(), { lang: "zh", cursor: "42" });
  });

  test("readMeta of a workbook without _meta is empty", async () => {
    env = install();
    assert.deepEqual(await readMeta(), {});
  });

  test("readHeaders maps each row-1 key to the header under it; a missing sheet is left out", async () => {
    env = install();
    env.fake.seed({ info: { sheets: [sheetInfo("客户")] }, blocks: [{ sheet: "客户", row: 1, col: 1, values: [["name", "phone", "x"], ["公司名称 *", "总机", ""]] }] });
    assert.deepEqual(await readHeaders(["客户", "Nope"]), { 客户: { name: "公司名称", phone: "总机" } });
  });

  test("findColumn finds a field by its row-1 key; selectCell selects it", async () => {
    assert.equal(await findColumn("客户", "signed"), 3);
    assert.equal(await findColumn("客户", "nope"), 0);
    await selectCell("客户", 4, 3);
    assert.deepEqual(env.fake.book.selection, { sheet: "客户", address: "客户!C4" });
  });
});
