// A recording fake of the Office.js Excel object model, strict like the real one: reading a
// property that was not loaded and synced throws PropertyNotLoaded, an unknown member
// throws, a string written to Range.values is read as Excel reads typed input (a formula,
// a number, a date...), every sync is counted with its request and response bytes, and a
// payload over 5 MB fails as it does in Excel on the web.
//
//   const fake = createFake();           // fake.Excel, fake.book, fake.stats
//   fake.seed({info, blocks, notes});    // a workbook as the contract's snapshot describes it
//   fake.dump();                         // what is in it now, as plain JSON
import { ClientCollection, ClientObject, FakeContext, PAYLOAD_LIMIT } from "./fake_base.mjs";
import { BookModel, FakeOfficeError, MAX_COLS, boxAddress, parseAddress } from "./fake_model.mjs";
import { NoteCollection, Worksheet, cellOf } from "./fake_sheet.mjs";

class NamedItem extends ClientObject {
  // target: [name, record]
  constructor(ctx, resolve) { super(ctx, resolve, "NamedItem"); }
  _props() { return ["name", "formula", "visible", "type", "comment"]; }

  _read([name, rec], prop) {
    switch (prop) {
      case "name": return name;
      case "formula": return rec.formula;
      case "visible": return rec.visible;
      case "type": return /^=('[^']+'|[^!]+)!\$?[A-Z]+\$?\d+/.test(rec.formula) ? "Range" : "String";
      case "comment": return rec.comment;
      default: return super._read([name, rec], prop);
    }
  }

  _write([name, rec], prop, value) {
    if (prop === "formula") rec.formula = String(value);
    else if (prop === "visible") rec.visible = Boolean(value);
    else super._write([name, rec], prop, value);
  }

  get name() { return this._get("name"); }
  get formula() { return this._get("formula"); }
  set formula(v) { this._set("formula", v); }
  get visible() { return this._get("visible"); }
  set visible(v) { this._set("visible", v); }
  get type() { return this._get("type"); }
  get comment() { return this._get("comment"); }
  delete() { this._call("delete", [], ([name]) => { this._book().names.delete(name); }); }
  _book() { return this._ctx._fake.book; }
}

function findName(book, name) {
  const lower = String(name).toLowerCase();
  for (const entry of book.names) if (entry[0].toLowerCase() === lower) return entry;
  return null;
}

class NamedItemCollection extends ClientCollection {
  constructor(ctx, resolve) { super(ctx, resolve, "NamedItemCollection"); }
  _list(book) { return [...book.names].map((entry) => new NamedItem(this._ctx, () => entry)); }

  add(name, reference, comment = "") {
    let made = null;
    const item = new NamedItem(this._ctx, () => made);
    this._call("add", [name, typeof reference === "string" ? reference : "range", comment], (book) => {
      if (!/^[A-Za-z_\\][A-Za-z0-9_.]*$/.test(name) || /^[A-Za-z]{1,3}\d+$/.test(name)) {
        throw new FakeOfficeError("InvalidArgument", `bad name ${name}`);
      }
      if (findName(book, name)) throw new FakeOfficeError("ItemAlreadyExists", `name ${name} exists`);
      let formula;
      if (typeof reference === "string") formula = reference.startsWith("=") ? reference : `="${reference}"`;
      else { const { sheet, box } = reference._need(); formula = "=" + absolute(boxAddress(sheet.name, box)); }
      book.names.set(name, { formula, visible: true, comment });
      made = [name, book.names.get(name)];
    });
    return item;
  }

  getItem(name) {
    return new NamedItem(this._ctx, () => {
      const e = findName(this._need(), name);
      if (!e) throw new FakeOfficeError("ItemNotFound", `no name ${name}`);
      return e;
    });
  }

  getItemOrNullObject(name) { return new NamedItem(this._ctx, () => findName(this._need(), name)); }
}

function absolute(address) {
  return address.replace(/([A-Z]+)(\d+)/g, "$$$1$$$2");
}

class WorksheetCollection extends ClientCollection {
  constructor(ctx, resolve) { super(ctx, resolve, "WorksheetCollection"); }
  _list(book) { return book.sheets.map((s) => new Worksheet(this._ctx, () => s)); }

  add(name) {
    let made = null;
    const sheet = new Worksheet(this._ctx, () => made);
    this._call("add", [name ?? null], (book) => { made = book.addSheet(name); });
    return sheet;
  }

  getItem(key) {
    return new Worksheet(this._ctx, () => {
      const s = this._need().sheet(key);
      if (!s) throw new FakeOfficeError("ItemNotFound", `no sheet ${key}`);
      return s;
    });
  }

  getItemOrNullObject(key) { return new Worksheet(this._ctx, () => this._need().sheet(key) ?? null); }
  getActiveWorksheet() { return new Worksheet(this._ctx, () => this._need().active); }
}

class Workbook extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "Workbook"); }
  _props() { return ["name"]; }
  _read(book, prop) { return prop === "name" ? book.name : super._read(book, prop); }
  get name() { return this._get("name"); }
  get worksheets() { return (this._sheets ??= new WorksheetCollection(this._ctx, () => this._need())); }
  get names() { return (this._names ??= new NamedItemCollection(this._ctx, () => this._need())); }
  get notes() { return (this._notes ??= new NoteCollection(this._ctx, () => this._need(), this)); }
  getSelectedRange() {
    return this.worksheets.getActiveWorksheet().getRange(this._ctx._fake.book.selection?.address.split("!")[1] ?? "A1");
  }
}

function makeContext(fake) {
  const ctx = new FakeContext(fake);
  ctx.workbook = new Workbook(ctx, () => fake.book);
  return ctx;
}

function makeExcel(fake) {
  return {
    async run(batch) {
      if (typeof batch !== "function") throw new FakeOfficeError("InvalidArgument", "Excel.run(batch)");
      const ctx = makeContext(fake);
      fake.stats.runs += 1;
      try {
        const out = await batch(ctx);
        if (ctx._queue.length) {
          throw new FakeOfficeError("InvalidOperation", `${ctx._queue.length} queued operations were never synced`);
        }
        return out;
      } finally {
        ctx._closed = true;
      }
    },
    async createWorkbook(base64) {
      if (typeof base64 !== "string" || !/^[A-Za-z0-9+/]+=*$/.test(base64) || !base64.startsWith("UEsD")) {
        throw new FakeOfficeError("InvalidArgument", "createWorkbook takes a base64 xlsx");
      }
      fake.book.opened.push(base64);
    },
    ErrorCodes: {
      itemNotFound: "ItemNotFound", invalidArgument: "InvalidArgument", invalidOperation: "InvalidOperation",
      apiNotFound: "ApiNotFound", requestPayloadSizeLimitExceeded: "RequestPayloadSizeLimitExceeded",
      responsePayloadSizeLimitExceeded: "ResponsePayloadSizeLimitExceeded", propertyNotLoaded: "PropertyNotLoaded",
    },
  };
}

const VIS_IN = { visible: "Visible", hidden: "Hidden", very_hidden: "VeryHidden" };

function seed(fake, { info, blocks = [], notes = [], validations = [], layout = [] }) {
  // a workbook described like the contract's snapshot (values stored as they are); what a
  // snapshot does not carry but a workbook has: validations, layout (hidden rows, columns)
  const book = new BookModel(info.name || "Book1.xlsx");
  for (const s of info.sheets) {
    const sheet = book.addSheet(s.name);
    sheet.visibility = VIS_IN[s.visibility ?? "visible"];
    if (s.freeze) sheet.freeze = { rows: s.freeze[0] - 1, cols: s.freeze[1] - 1 };
  }
  book.active = book.sheet(info.active ?? info.sheets[0].name);
  for (const n of info.names ?? []) {
    book.names.set(n.name, { formula: n.ref.startsWith("=") ? n.ref : "=" + n.ref, visible: true, comment: "" });
  }
  for (const b of blocks) seedBlock(book.sheet(b.sheet), b);
  for (const group of notes) {
    const sheet = book.sheet(group.sheet);
    for (const n of group.notes) {
      sheet.notes.set(sheet.key(n.row - 1, n.col - 1), { content: n.text, authorName: n.author ?? "" });
      if (n.fill) sheet.style(n.row - 1, n.col - 1, true).fill = "#" + n.fill.toUpperCase();
    }
  }
  for (const l of layout) {
    const sheet = book.sheet(l.sheet);
    for (const r of l.hiddenRows ?? []) sheet.rowHidden.add(r - 1);
    for (const c of l.hiddenCols ?? []) sheet.colHidden.add(c - 1);
  }
  for (const v of validations) {
    const box = parseAddress(v.address);
    book.sheet(v.sheet).validations.push({ ...box, rule: v.rule, errorAlert: v.errorAlert ?? null, prompt: v.prompt ?? null, ignoreBlanks: true });
  }
  fake.book = book;
}

function seedBlock(sheet, block) {
  block.values.forEach((row, i) => row.forEach((v, j) => {
    if (v !== "" && v !== null) sheet.store(block.row - 1 + i, (block.col ?? 1) - 1 + j, v);
  }));
  for (const [col, runs] of Object.entries(block.formats ?? {})) {
    for (const run of runs) {
      for (let k = 0; k < run.count; k++) sheet.setFormat(block.row - 1 + run.start + k, (block.col ?? 1) - 1 + Number(col), run.format);
    }
  }
}

const VIS_OUT = { Visible: "visible", Hidden: "hidden", VeryHidden: "very_hidden" };

function dumpSheet(s) {
  const box = s.usedBox(true);
  const rows = box ? box.r0 + box.rows : 0;
  const cols = box ? box.c0 + box.cols : 0;
  const values = [];
  for (let r = 0; r < rows; r++) {
    const row = [];
    for (let c = 0; c < cols; c++) {
      const k = s.key(r, c);
      row.push(s.formulas.has(k) ? { f: s.formulas.get(k) } : s.get(r, c) === "" ? null : s.get(r, c));
    }
    values.push(row);
  }
  const at = (k) => [Math.floor(k / MAX_COLS) + 1, (k % MAX_COLS) + 1];
  const formats = {};
  for (const [r, row] of s.formats) row.forEach((f, c) => { if (f !== undefined) formats[`${r + 1},${c + 1}`] = f; });
  const fills = {};
  const fonts = {};
  for (const [k, st] of s.styles) {
    if (st.fill) fills[at(k).join(",")] = st.fill.slice(1);
    if (Object.keys(st.font).length) fonts[at(k).join(",")] = { ...st.font };
  }
  return {
    name: s.name, visibility: VIS_OUT[s.visibility], values, formats, fills, fonts,
    freeze: [s.freeze.rows + 1, s.freeze.cols + 1],
    notes: [...s.notes].map(([k, n]) => ({ row: at(k)[0], col: at(k)[1], text: n.content, author: n.authorName })),
    quoted: [...s.quoted].map((k) => at(k).join(",")),
    hiddenRows: [...s.rowHidden].map((r) => r + 1).sort((a, b) => a - b),
    hiddenCols: [...s.colHidden].map((c) => c + 1).sort((a, b) => a - b),
    widths: Object.fromEntries([...s.colWidths].map(([c, w]) => [c + 1, w])),
    validations: s.validations.map((v) => ({ address: boxAddress(s.name, v).split("!")[1], rule: v.rule, errorAlert: v.errorAlert, prompt: v.prompt })),
    merges: s.merges.map((m) => boxAddress(s.name, m).split("!")[1]),
    charts: s.charts.map(({ name, type, seriesBy, source, title, anchor, width, height, series }) => ({
      name, type, seriesBy, source, title, anchor, width, height, series: structuredClone(series) })),
    pageLayout: structuredClone(s.pageLayout),
  };
}

function dump(fake) {
  const book = fake.book;
  return {
    name: book.name,
    active: book.active?.name ?? null,
    selection: book.selection,
    sheets: book.sheets.map(dumpSheet),
    names: Object.fromEntries([...book.names].map(([n, r]) => [n, r.formula])),
    opened: book.opened.length,
  };
}

function createFake(options = {}) {
  const fake = {
    options: { notes: true, author: "Fake User", ...options },
    book: new BookModel(),
    stats: { runs: 0, syncs: 0, operations: 0, requests: [], responses: [] },
  };
  fake.book.addSheet("Sheet1");
  fake.Excel = makeExcel(fake);
  fake.seed = (snapshot) => seed(fake, snapshot);
  fake.dump = () => dump(fake);
  fake.resetStats = () => { fake.stats = { runs: 0, syncs: 0, operations: 0, requests: [], responses: [] }; };
  return fake;
}

export { createFake, PAYLOAD_LIMIT, FakeOfficeError, cellOf };
