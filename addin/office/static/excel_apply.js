// Applying the host-neutral actions of addin/payload/actions.py to the open workbook, in
// order, with as few context.sync() calls as the 5 MB request limit allows: whole ranges,
// never a cell per sync. With excel_read.js, the only code that touches `Excel`.
import { byteLength, cellAddress, colLetters } from "./excel_read.js";

export const SYNC_BUDGET = 4_000_000; // bytes queued before a sync (Excel on the web: 5 MB)
const CHUNK = 1_500_000; // a single set_values / set_number_format larger than this is cut by rows
const VISIBILITY = { visible: "Visible", hidden: "Hidden", very_hidden: "VeryHidden" };
const ALIGN = { general: "General", left: "Left", center: "Center", centre: "Center", right: "Right",
  fill: "Fill", justify: "Justify", centerContinuous: "CenterAcrossSelection", distributed: "Distributed" };
const CHARTS = { column: "ColumnClustered", bar: "BarClustered", line: "Line", pie: "Pie" };
const NEEDS_STATE = new Set(["add_sheet", "set_name", "set_notes"]);
// a string Excel could read as something else: a formula, number, date, time, boolean, error
const RISKY = /^[=+\-@'#\s]|\d|^\s*(true|false)\s*$/i;

export class ActionError extends Error {
  constructor(message, index, op, cause = null) {
    super(message);
    this.name = "ActionError";
    this.index = index;
    this.op = op;
    this.cause = cause;
  }
}

export function cellValue(v) {
  // a contract cell value -> what Range.values takes: strings always stay text
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v !== "" && RISKY.test(v) ? "'" + v : v;
  if (typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "object" && typeof v.f === "string") return v.f.startsWith("=") ? v.f : "=" + v.f;
  throw new TypeError(`not a cell value: ${JSON.stringify(v)}`);
}

export function columnPoints(chars) {
  // Excel's column width in characters (of the default font's digit, 7 px) -> points
  return Math.round(Math.max(0, chars) * 7) * 0.75;
}

function runs(numbers) {
  // [3, 4, 5, 9] -> [[3, 5], [9, 9]]
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const out = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] === n - 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}

function cut(a) {
  // large set_values / set_number_format actions cut by rows into parts under CHUNK
  if (a.op === "set_values" && a.values.length > 1) {
    const size = byteLength(a.values);
    if (size <= CHUNK) return [a];
    const step = Math.max(1, Math.floor((a.values.length * CHUNK) / size));
    const parts = [];
    for (let i = 0; i < a.values.length; i += step) parts.push({ ...a, row: a.row + i, values: a.values.slice(i, i + step) });
    return parts;
  }
  if (a.op === "set_number_format" && a.rows > 1) {
    const step = Math.max(1, Math.floor(CHUNK / (a.cols * (a.format.length + 3))));
    const parts = [];
    for (let i = 0; i < a.rows; i += step) parts.push({ ...a, row: a.row + i, rows: Math.min(step, a.rows - i) });
    return parts;
  }
  return [a];
}

function costOf(a) {
  if (a.op === "set_number_format") return a.rows * a.cols * (byteLength(a.format) + 1) + 200;
  if (a.op === "set_values") return byteLength(a.values) + a.values.length * (a.values[0]?.length ?? 0) + 200;
  return byteLength(a) + 200;
}

class Applier {
  constructor(context) {
    this.context = context;
    this.wb = context.workbook;
    this.sheets = new Map(); // lower-case name -> {name, ws, fresh}
    this.order = [];
    this.names = new Set();
    this.notes = new Map(); // "sheet|A1" -> exists
    this.opened = [];
    this.warnings = [];
    this.pending = 0;
    this.syncs = 0;
    this.from = 0;
  }

  async prepare(actions, notesOk) {
    // one sync for what the page's ops must know first: sheets, names, existing notes
    if (!actions.some((a) => NEEDS_STATE.has(a.op))) return;
    const sheets = this.wb.worksheets.load("items/name");
    const names = this.wb.names.load("items/name");
    await this.context.sync();
    this.syncs += 1;
    for (const ws of sheets.items) this.remember(ws.name, ws, false);
    for (const n of names.items) this.names.add(n.name.toLowerCase());
    if (notesOk) await this.prepareNotes(actions);
  }

  async prepareNotes(actions) {
    const origin = new Map(this.order.map((n) => [n.toLowerCase(), n]));
    const probes = [];
    for (const a of actions) {
      if (a.op === "add_sheet") origin.set(a.sheet.toLowerCase(), null);
      else if (a.op === "delete_sheet") origin.delete(a.sheet.toLowerCase());
      else if (a.op === "rename_sheet") { origin.set(a.to.toLowerCase(), origin.get(a.sheet.toLowerCase())); origin.delete(a.sheet.toLowerCase()); }
      else if (a.op === "set_notes" && origin.get(a.sheet.toLowerCase())) {
        const ws = this.wb.worksheets.getItem(origin.get(a.sheet.toLowerCase()));
        for (const n of a.notes) {
          const addr = cellAddress(n.row, n.col);
          const probe = ws.notes.getItemOrNullObject(addr).load("content");
          probes.push([`${a.sheet.toLowerCase()}|${addr}`, probe]);
        }
      }
    }
    if (!probes.length) return;
    await this.context.sync();
    this.syncs += 1;
    for (const [key, probe] of probes) if (!this.notes.has(key)) this.notes.set(key, !probe.isNullObject);
  }

  remember(name, ws, fresh) {
    this.sheets.set(name.toLowerCase(), { name, ws, fresh });
    if (!this.order.includes(name)) this.order.push(name);
  }

  ws(name) {
    const known = this.sheets.get(String(name).toLowerCase());
    if (known) return known.ws;
    const ws = this.wb.worksheets.getItem(name);
    this.sheets.set(String(name).toLowerCase(), { name, ws, fresh: false });
    return ws;
  }

  range(a, rows = a.rows, cols = a.cols) {
    return this.ws(a.sheet).getRangeByIndexes(a.row - 1, a.col - 1, rows, cols);
  }

  async flush(index, actions, origin) {
    // sync what is queued; a failure names the actions (their indexes in the page) it held
    try {
      await this.context.sync();
    } catch (err) {
      const ops = actions.slice(this.from, index).map((a) => a.op);
      const first = origin[this.from] ?? 0;
      const last = origin[index - 1] ?? first;
      const where = first === last ? `action ${first}` : `actions ${first}-${last}`;
      throw new ActionError(`${where} (${[...new Set(ops)].join(", ")}): ${err.message}`, first, ops[0], err);
    }
    this.syncs += 1;
    this.pending = 0;
    this.from = index;
  }
}

const APPLY = {
  add_sheet(ap, a) {
    if (ap.sheets.has(a.sheet.toLowerCase())) throw new Error(`sheet ${a.sheet} already exists`);
    const ws = ap.wb.worksheets.add(a.sheet);
    const anchor = a.after ?? a.before; // "after" wins, as in the reference host
    let at = ap.order.length;
    if (anchor != null) {
      const i = ap.order.findIndex((n) => n.toLowerCase() === anchor.toLowerCase());
      if (i < 0) throw new Error(`no sheet ${anchor} to place ${a.sheet} by`);
      at = a.after != null ? i + 1 : i;
    }
    if (at < ap.order.length) ws.position = at;
    ap.order.splice(at, 0, a.sheet);
    ap.sheets.set(a.sheet.toLowerCase(), { name: a.sheet, ws, fresh: true });
  },
  delete_sheet(ap, a) {
    ap.ws(a.sheet).delete();
    ap.sheets.delete(a.sheet.toLowerCase());
    ap.order = ap.order.filter((n) => n.toLowerCase() !== a.sheet.toLowerCase());
  },
  rename_sheet(ap, a) {
    const ws = ap.ws(a.sheet);
    ws.name = a.to;
    const entry = ap.sheets.get(a.sheet.toLowerCase());
    ap.sheets.delete(a.sheet.toLowerCase());
    ap.sheets.set(a.to.toLowerCase(), { ...entry, name: a.to });
    ap.order = ap.order.map((n) => (n.toLowerCase() === a.sheet.toLowerCase() ? a.to : n));
    for (const key of [...ap.notes.keys()]) {
      if (key.startsWith(a.sheet.toLowerCase() + "|")) ap.notes.set(a.to.toLowerCase() + key.slice(a.sheet.length), ap.notes.get(key));
    }
  },
  set_visibility(ap, a) {
    if (!VISIBILITY[a.state]) throw new Error(`visibility ${a.state}`);
    ap.ws(a.sheet).visibility = VISIBILITY[a.state];
  },
  activate(ap, a) { ap.ws(a.sheet).activate(); },
  set_values(ap, a) {
    const width = a.values[0]?.length ?? 0;
    if (!width) return;
    if (a.values.some((r) => r.length !== width)) throw new Error("values are not rectangular");
    ap.range(a, a.values.length, width).values = a.values.map((r) => r.map(cellValue));
  },
  clear(ap, a) { ap.range(a).clear("Contents"); },
  set_number_format(ap, a) {
    const row = new Array(a.cols).fill(a.format);
    ap.range(a).numberFormat = Array.from({ length: a.rows }, () => row);
  },
  set_fill(ap, a) {
    const byCol = new Map();
    for (const [r, c] of a.cells) byCol.set(c, [...(byCol.get(c) ?? []), r]);
    for (const [c, rows] of byCol) {
      for (const [r0, r1] of runs(rows)) {
        const fill = ap.ws(a.sheet).getRangeByIndexes(r0 - 1, c - 1, r1 - r0 + 1, 1).format.fill;
        if (a.color) fill.color = "#" + a.color;
        else fill.clear();
      }
    }
  },
  set_font(ap, a) {
    // the whole font but its name, as the reference host sets it (size null: unchanged)
    const font = ap.range(a).format.font;
    font.bold = Boolean(a.bold);
    font.italic = Boolean(a.italic);
    if (a.size != null) font.size = a.size;
    font.color = a.color ? "#" + a.color : "#000000";
  },
  set_alignment(ap, a) {
    const format = ap.range(a).format;
    const horizontal = a.horizontal ?? "general";
    if (!ALIGN[horizontal]) throw new Error(`alignment ${horizontal}`);
    format.horizontalAlignment = ALIGN[horizontal];
    format.wrapText = Boolean(a.wrap);
  },
  merge(ap, a) { ap.range(a).merge(false); },
  set_notes(ap, a, { notesOk }) {
    if (!notesOk) {
      if (!ap.warnings.includes("notes")) ap.warnings.push("notes");
      return;
    }
    const ws = ap.ws(a.sheet);
    for (const n of a.notes) {
      const addr = cellAddress(n.row, n.col);
      const key = `${a.sheet.toLowerCase()}|${addr}`;
      const exists = ap.notes.get(key) ?? false;
      if (n.text == null) { if (exists) ws.notes.getItem(addr).delete(); }
      else if (exists) ws.notes.getItem(addr).content = n.text;
      else ws.notes.add(ws.getRange(addr), n.text);
      ap.notes.set(key, n.text != null);
    }
  },
  set_validation(ap, a) {
    const dv = ap.range(a).dataValidation;
    dv.clear();
    if (a.list) {
      dv.rule = { list: { inCellDropDown: true, source: a.list } };
      dv.errorAlert = { showAlert: true, style: a.stop ? "Stop" : "Information",
        title: (a.error_title ?? "").slice(0, 32), message: (a.error ?? "").slice(0, 255) };
    }
    if (a.prompt || a.prompt_title) {
      dv.prompt = { showPrompt: true, title: (a.prompt_title ?? "").slice(0, 32), message: (a.prompt ?? "").slice(0, 255) };
    }
  },
  set_name(ap, a) {
    if (ap.names.has(a.name.toLowerCase())) ap.wb.names.getItem(a.name).delete();
    ap.wb.names.add(a.name, a.ref.startsWith("=") ? a.ref : "=" + a.ref);
    ap.names.add(a.name.toLowerCase());
  },
  freeze(ap, a) {
    const panes = ap.ws(a.sheet).freezePanes;
    panes.unfreeze();
    const rows = a.row - 1;
    const cols = a.col - 1;
    if (rows > 0 && cols > 0) panes.freezeAt(ap.ws(a.sheet).getRangeByIndexes(0, 0, rows, cols));
    else if (rows > 0) panes.freezeRows(rows);
    else if (cols > 0) panes.freezeColumns(cols);
  },
  hide_rows(ap, a) {
    for (const [r0, r1] of runs(a.rows)) ap.ws(a.sheet).getRange(`${r0}:${r1}`).rowHidden = true;
  },
  hide_cols(ap, a) {
    for (const [c0, c1] of runs(a.cols)) ap.ws(a.sheet).getRange(`${colLetters(c0)}:${colLetters(c1)}`).columnHidden = true;
  },
  set_column_widths(ap, a) {
    for (const [col, chars] of Object.entries(a.widths)) {
      const letter = colLetters(Number(col));
      ap.ws(a.sheet).getRange(`${letter}:${letter}`).format.columnWidth = columnPoints(chars);
    }
  },
  page_setup(ap, a) {
    const page = ap.ws(a.sheet).pageLayout;
    page.orientation = a.landscape ? "Landscape" : "Portrait";
    if (a.fit_width) page.zoom = { horizontalFitToPages: a.fit_width, verticalFitToPages: 0 };
    if (a.title_rows) page.setPrintTitleRows(a.title_rows.split(":").map((r) => "$" + r.replace(/\$/g, "")).join(":"));
  },
  async add_chart(ap, a) {
    // categories in the data's first column, a header row; `series` (columns) when they
    // are not all the columns after it: then added one by one, named by their header
    if (!CHARTS[a.kind]) throw new Error(`chart kind ${a.kind}`);
    const ws = ap.ws(a.sheet);
    const d = a.data;
    const series = d.series ?? Array.from({ length: d.cols - 1 }, (_, i) => d.col + 1 + i);
    const simple = series.every((c, i) => c === d.col + 1 + i);
    const first = simple ? d.cols : 2;
    const block = ws.getRangeByIndexes(d.row - 1, d.col - 1, d.rows, first);
    let names = null;
    if (!simple) {
      await ap.flush(ap.index, ap.parts, ap.origin); // the headers may be in this page
      names = series.slice(1).map((c) => ws.getRangeByIndexes(d.row - 1, c - 1, 1, 1).load("values"));
      await ap.flush(ap.index, ap.parts, ap.origin);
    }
    const chart = ws.charts.add(CHARTS[a.kind], block, "Columns");
    if (!simple) {
      const cats = ws.getRangeByIndexes(d.row, d.col - 1, d.rows - 1, 1);
      series.slice(1).forEach((c, i) => {
        const s = chart.series.add(String(names[i].values[0][0] ?? ""));
        s.setValues(ws.getRangeByIndexes(d.row, c - 1, d.rows - 1, 1));
        s.setXAxisValues(cats);
      });
    }
    if (a.title) chart.title.text = a.title;
    chart.setPosition(ws.getRangeByIndexes(a.anchor.row - 1, a.anchor.col - 1, 1, 1));
    if (a.anchor.width) { chart.width = a.anchor.width; chart.height = a.anchor.height; }
  },
  open_workbook(ap, a) { ap.opened.push({ file: a.file, name: a.name }); },
};

export const HANDLED_OPS = Object.keys(APPLY);

export async function applyActions(actions, { notesOk = true, onProgress = null } = {}) {
  // -> {syncs, opened: [{file, name}], warnings}; throws ActionError naming the action
  const parts = [];
  const origin = []; // parts[i] came from actions[origin[i]]
  actions.forEach((a, i) => cut(a).forEach((p) => { parts.push(p); origin.push(i); }));
  return Excel.run(async (context) => {
    const ap = new Applier(context);
    ap.parts = parts;
    ap.origin = origin;
    await ap.prepare(parts, notesOk);
    for (let i = 0; i < parts.length; i++) {
      const a = parts[i];
      const cost = costOf(a);
      if (ap.pending && ap.pending + cost > SYNC_BUDGET) {
        await ap.flush(i, parts, origin);
        onProgress?.(origin[i], actions.length);
      }
      const apply = APPLY[a.op];
      if (!apply) throw new ActionError(`action ${origin[i]}: unknown op ${a.op}`, origin[i], a.op);
      ap.index = i;
      try {
        await apply(ap, a, { notesOk });
      } catch (err) {
        if (err instanceof ActionError) throw err;
        throw new ActionError(`action ${origin[i]} (${a.op}): ${err.message}`, origin[i], a.op, err);
      }
      ap.pending += cost;
    }
    await ap.flush(parts.length, parts, origin);
    return { syncs: ap.syncs, opened: ap.opened, warnings: ap.warnings };
  });
}
