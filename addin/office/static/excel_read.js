// Reading the workbook through the Excel object model: what a host sends before a command
// runs (addin/payload/snapshot.py): the sheet list, cell blocks in row batches whose JSON
// stays under the byte limit, the notes with their cells' fills, the _meta keys.
// With excel_apply.js, the only code that touches `Excel`.

export const MAX_ROWS = 1048576;
export const MAX_COLS = 16384;
const VISIBILITY = { Visible: "visible", Hidden: "hidden", VeryHidden: "very_hidden" };
const ENCODER = new TextEncoder();

export function byteLength(value) {
  return ENCODER.encode(JSON.stringify(value)).length;
}

export function colLetters(col) {
  let s = "";
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

export function cellAddress(row, col) {
  return `${colLetters(col)}${row}`;
}

function freezeOf(loc) {
  // the frozen panes' range -> the first cell that scrolls (1-based), null: not frozen
  if (loc.isNullObject) return null;
  const rows = loc.rowCount >= MAX_ROWS ? 0 : loc.rowCount;
  const cols = loc.columnCount >= MAX_COLS ? 0 : loc.columnCount;
  return rows || cols ? [rows + 1, cols + 1] : null;
}

export async function readWorkbookInfo() {
  return Excel.run(async (context) => {
    const wb = context.workbook;
    wb.load("name");
    const sheets = wb.worksheets.load("items/name,items/visibility");
    const active = wb.worksheets.getActiveWorksheet().load("name");
    const names = wb.names.load("items/name,items/formula");
    await context.sync();
    const used = sheets.items.map((s) => s.getUsedRangeOrNullObject(true).load("rowIndex,columnIndex,rowCount,columnCount"));
    const frozen = sheets.items.map((s) => s.freezePanes.getLocationOrNullObject().load("rowCount,columnCount"));
    await context.sync();
    return {
      name: wb.name || "",
      active: active.name,
      sheets: sheets.items.map((s, i) => ({
        name: s.name,
        visibility: VISIBILITY[s.visibility] ?? "visible",
        rows: used[i].isNullObject ? 0 : used[i].rowIndex + used[i].rowCount,
        cols: used[i].isNullObject ? 0 : used[i].columnIndex + used[i].columnCount,
        freeze: freezeOf(frozen[i]),
      })),
      names: names.items
        .filter((n) => typeof n.formula === "string" && n.formula.length <= 8192)
        .map((n) => ({ name: n.name, ref: n.formula })), // "=Sheet!$A$1" as Excel gives it
    };
  });
}

function formatRuns(formats, cols) {
  // per block column: runs of cells whose number format is not General
  const out = {};
  for (let j = 0; j < cols; j++) {
    const runs = [];
    let run = null;
    formats.forEach((row, i) => {
      const f = row[j];
      if (f === "General" || f === "" || f == null) { run = null; return; }
      if (run && run.format === f && run.start + run.count === i) run.count += 1;
      else runs.push((run = { format: f, start: i, count: 1 }));
    });
    if (runs.length) out[j] = runs;
  }
  return out;
}

function plain(value) {
  // what the contract accepts for a cell read: number, string, boolean ("" for empty)
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  return String(value);
}

async function readBatch(context, sheet, row, rows, cols) {
  const range = context.workbook.worksheets.getItem(sheet).getRangeByIndexes(row - 1, 0, rows, cols);
  range.load("values,numberFormat");
  await context.sync();
  const values = range.values.map((r) => r.map(plain));
  return { block: { sheet, row, col: 1, values, formats: formatRuns(range.numberFormat, cols) },
    bytes: byteLength(range.values) + byteLength(range.numberFormat) };
}

function isTooLarge(err) {
  return /PayloadSizeLimitExceeded/.test(err?.code ?? "");
}

export async function readBlocks(sheet, rows, cols, { maxBytes, onBlock }) {
  // row batches of one sheet; the next batch's size follows the bytes the last one took,
  // so the host's answer and the upload both stay under maxBytes; onBlock is awaited one
  // batch behind, so the upload of a block overlaps the read of the next
  if (!rows || !cols) return 0;
  const budget = Math.floor(maxBytes * 0.85);
  let batch = Math.max(1, Math.min(rows, Math.floor(budget / (cols * 40))));
  let pending = null;
  let sent = 0;
  await Excel.run(async (context) => {
    for (let row = 1; row <= rows;) {
      const n = Math.min(batch, rows - row + 1);
      let got;
      try {
        got = await readBatch(context, sheet, row, n, cols);
      } catch (err) {
        if (!isTooLarge(err) || n === 1) throw err;
        batch = Math.max(1, Math.floor(n / 2));
        continue;
      }
      for (const part of splitBlock(got.block, maxBytes)) {
        await pending;
        pending = onBlock(part);
        sent += 1;
      }
      row += n;
      batch = Math.max(1, Math.floor((n * budget) / Math.max(got.bytes, 1)));
    }
    await pending;
  });
  return sent;
}

export function splitBlock(block, maxBytes) {
  // a block whose JSON is over maxBytes, halved by rows until each part fits
  if (block.values.length <= 1 || byteLength(block) <= maxBytes) return [block];
  const half = Math.ceil(block.values.length / 2);
  const part = (start, stop) => ({
    sheet: block.sheet, row: block.row + start, col: block.col,
    values: block.values.slice(start, stop),
    formats: shiftRuns(block.formats, start, stop),
  });
  return [...splitBlock(part(0, half), maxBytes), ...splitBlock(part(half, block.values.length), maxBytes)];
}

function shiftRuns(formats, start, stop) {
  const out = {};
  for (const [col, runs] of Object.entries(formats)) {
    const kept = runs
      .map((r) => ({ format: r.format, start: Math.max(r.start, start), stop: Math.min(r.start + r.count, stop) }))
      .filter((r) => r.stop > r.start)
      .map((r) => ({ format: r.format, start: r.start - start, count: r.stop - r.start }));
    if (kept.length) out[col] = kept;
  }
  return out;
}

export function notesSupported() {
  return Office.context.requirements.isSetSupported("ExcelApi", "1.18");
}

function hex(fill) {
  if (fill.pattern === "None" || !fill.color || !/^#[0-9A-Fa-f]{6}$/.test(fill.color)) return null;
  return fill.color.slice(1).toUpperCase();
}

export async function readNotes(sheets) {
  // [{sheet, notes: [{row, col, text, author, fill}]}]; null where Excel has no notes API
  // (ExcelApi 1.18: Excel on the web and Microsoft 365 since 2025; older builds lack it)
  if (!notesSupported()) return null;
  return Excel.run(async (context) => {
    const groups = sheets.map((name) => context.workbook.worksheets.getItem(name).notes.load("items/content,items/authorName"));
    await context.sync();
    const cells = groups.map((g) => g.items.map((note) => {
      const where = note.getLocation().load("rowIndex,columnIndex");
      return { note, where, fill: where.format.fill.load("color,pattern") };
    }));
    await context.sync();
    return sheets.map((sheet, i) => ({
      sheet,
      notes: cells[i].map(({ note, where, fill }) => ({
        row: where.rowIndex + 1, col: where.columnIndex + 1, text: note.content.slice(0, 32767),
        author: (note.authorName ?? "").slice(0, 255), fill: hex(fill),
      })),
    }));
  });
}

export async function readMeta(sheet = "_meta") {
  // the hidden key/value sheet (column A keys, column B values); {} when there is none
  return Excel.run(async (context) => {
    const ws = context.workbook.worksheets.getItemOrNullObject(sheet);
    ws.load("name");
    await context.sync();
    if (ws.isNullObject) return {};
    const used = ws.getUsedRangeOrNullObject(true).load("values,rowIndex,columnIndex");
    await context.sync();
    if (used.isNullObject || used.columnIndex !== 0) return {};
    const out = {};
    for (const row of used.values.slice(used.rowIndex === 0 ? 1 : 0)) {
      const key = String(row[0] ?? "").trim();
      if (key) out[key] = row.length > 1 ? String(row[1] ?? "") : "";
    }
    return out;
  });
}

export async function findColumn(sheet, key) {
  // the 1-based column whose hidden row-1 key is `key` (0 when none)
  return Excel.run(async (context) => {
    const used = context.workbook.worksheets.getItem(sheet).getUsedRangeOrNullObject(true).load("columnIndex,columnCount");
    await context.sync();
    if (used.isNullObject) return 0;
    const head = context.workbook.worksheets.getItem(sheet)
      .getRangeByIndexes(0, 0, 1, used.columnIndex + used.columnCount).load("values");
    await context.sync();
    return head.values[0].findIndex((v) => v === key) + 1;
  });
}

export async function readHeaders(sheets) {
  // {sheet: {key: header}}: each sheet's row-1 keys with the row-2 headers under them
  return Excel.run(async (context) => {
    const found = sheets.map((name) => context.workbook.worksheets.getItemOrNullObject(name).load("name"));
    await context.sync();
    const used = found.map((ws) => (ws.isNullObject ? null : ws.getUsedRangeOrNullObject(true).load("columnIndex,columnCount")));
    await context.sync();
    const heads = found.map((ws, i) => (used[i] && !used[i].isNullObject
      ? ws.getRangeByIndexes(0, 0, 2, used[i].columnIndex + used[i].columnCount).load("values") : null));
    await context.sync();
    const out = {};
    sheets.forEach((name, i) => {
      const v = heads[i]?.values;
      if (!v) return;
      out[name] = Object.fromEntries(v[0].map((key, j) => [key, String(v[1][j] ?? "").replace(/\s*\*$/, "")]).filter(([k, h]) => k && h));
    });
    return out;
  });
}

export async function selectCell(sheet, row, col) {
  await Excel.run(async (context) => {
    const ws = context.workbook.worksheets.getItem(sheet);
    ws.activate();
    ws.getRangeByIndexes(row - 1, Math.max(col, 1) - 1, 1, 1).select();
    await context.sync();
  });
}

export async function openWorkbook(base64) {
  // a workbook the session produced, opened as a new window (ExcelApi 1.8); false: cannot
  if (!Office.context.requirements.isSetSupported("ExcelApi", "1.8")) return false;
  await Excel.createWorkbook(base64);
  return true;
}
