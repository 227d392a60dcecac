// The workbook behind the fake Office.js: sheets of sparse cells, addresses, and the
// conversion Excel applies to a string written through Range.values (typed input).
// No imports: the browser tests concatenate the fake's files into one init script.

const MAX_ROWS = 1048576;
const MAX_COLS = 16384;

class FakeOfficeError extends Error {
  // what a failed context.sync() rejects with: OfficeExtension.Error's code and debugInfo
  constructor(code, message, location = "") {
    super(`${code}: ${message}`);
    this.name = "RichApi.Error";
    this.code = code;
    this.debugInfo = { code, message, errorLocation: location };
  }
}

function colLetters(col) {
  // 1-based column number -> "A".."XFD"
  let s = "";
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) {
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  }
  return s;
}

function colNumber(letters) {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

function quoteSheet(name) {
  return /^[\p{L}_][\p{L}\p{N}_.]*$/u.test(name) && !/^[A-Za-z]{1,3}\d+$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

function parseAddress(address) {
  // "A1", "$B$2:C9", "3:5", "C:E", "Sheet!A1", "'My sheet'!A1:B2" -> 0-based box
  let text = String(address).trim();
  let sheet = null;
  const bang = text.lastIndexOf("!");
  if (bang >= 0) {
    sheet = text.slice(0, bang).replace(/^'(.*)'$/, "$1").replace(/''/g, "'");
    text = text.slice(bang + 1);
  }
  const parts = text.replace(/\$/g, "").toUpperCase().split(":");
  if (parts.length > 2 || !parts[0]) throw new FakeOfficeError("InvalidArgument", `bad address ${address}`);
  const ends = parts.map(parsePart);
  const [a, b] = [ends[0], ends[ends.length - 1]];
  if (a.kind !== b.kind) throw new FakeOfficeError("InvalidArgument", `bad address ${address}`);
  const r0 = a.kind === "col" ? 0 : Math.min(a.row, b.row);
  const r1 = a.kind === "col" ? MAX_ROWS - 1 : Math.max(a.row, b.row);
  const c0 = a.kind === "row" ? 0 : Math.min(a.col, b.col);
  const c1 = a.kind === "row" ? MAX_COLS - 1 : Math.max(a.col, b.col);
  return { sheet, r0, c0, rows: r1 - r0 + 1, cols: c1 - c0 + 1 };
}

function parsePart(part) {
  let m = /^([A-Z]{1,3})([0-9]+)$/.exec(part);
  if (m) return checked({ kind: "cell", row: Number(m[2]) - 1, col: colNumber(m[1]) - 1 }, part);
  m = /^([0-9]+)$/.exec(part);
  if (m) return checked({ kind: "row", row: Number(m[1]) - 1, col: 0 }, part);
  m = /^([A-Z]{1,3})$/.exec(part);
  if (m) return checked({ kind: "col", row: 0, col: colNumber(m[1]) - 1 }, part);
  throw new FakeOfficeError("InvalidArgument", `bad address part ${part}`);
}

function checked(p, part) {
  if (p.row < 0 || p.row >= MAX_ROWS || p.col < 0 || p.col >= MAX_COLS) {
    throw new FakeOfficeError("InvalidArgument", `address out of the sheet: ${part}`);
  }
  return p;
}

function boxAddress(sheetName, box) {
  const full = box.rows === MAX_ROWS;
  const wide = box.cols === MAX_COLS;
  const a = (r, c) => `${colLetters(c + 1)}${r + 1}`;
  let ref;
  if (wide) ref = `${box.r0 + 1}:${box.r0 + box.rows}`;
  else if (full) ref = `${colLetters(box.c0 + 1)}:${colLetters(box.c0 + box.cols)}`;
  else if (box.rows === 1 && box.cols === 1) ref = a(box.r0, box.c0);
  else ref = `${a(box.r0, box.c0)}:${a(box.r0 + box.rows - 1, box.c0 + box.cols - 1)}`;
  return `${quoteSheet(sheetName)}!${ref}`;
}

// ---- typed-input conversion: what Excel makes of a string written to Range.values ----

const ERRORS = new Set(["#N/A", "#NAME?", "#REF!", "#VALUE!", "#DIV/0!", "#NUM!", "#NULL!"]);
const NUMBER = /^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?$/;

function dateSerial(y, m, d) {
  const ms = Date.UTC(y, m - 1, d) - Date.UTC(1899, 11, 30);
  return Math.round(ms / 86400000);
}

function convertTyped(text, numberFormat) {
  // -> {value, formula, type, format?}: Excel's reading of a typed string
  if (text.startsWith("'")) return { value: text.slice(1), type: "String", quote: true };
  if (numberFormat === "@") return { value: text, type: "String" };
  if (text.length > 1 && text.startsWith("=")) return { value: 0, formula: text, type: "Double" };
  const t = text.trim();
  if (/\d/.test(t) && NUMBER.test(t)) return { value: Number(t.replace(/,/g, "")), type: "Double" };
  if (/^[-+]?\d+(\.\d+)?%$/.test(t)) return { value: Number(t.slice(0, -1)) / 100, type: "Double", format: "0%" };
  if (/^[$¥€£]\s?\d[\d,]*(\.\d+)?$/.test(t)) return { value: Number(t.replace(/[^\d.]/g, "")), type: "Double", format: "$#,##0.00" };
  if (/^(true|false)$/i.test(t)) return { value: t.toLowerCase() === "true", type: "Boolean" };
  if (ERRORS.has(t.toUpperCase())) return { value: t.toUpperCase(), type: "Error" };
  let m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(t);
  if (m) return { value: dateSerial(+m[1], +m[2], +m[3]), type: "Double", format: "yyyy-mm-dd" };
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{2,4})$/.exec(t);
  if (m) return { value: dateSerial(+m[3] < 100 ? 2000 + +m[3] : +m[3], +m[1], +m[2]), type: "Double", format: "m/d/yyyy" };
  m = /^(\d{1,2}):(\d{2})(:(\d{2}))?$/.exec(t);
  if (m) return { value: (+m[1] * 3600 + +m[2] * 60 + +(m[4] || 0)) / 86400, type: "Double", format: "h:mm" };
  if (/^[-+]./.test(t)) return { value: "#NAME?", formula: "=" + t, type: "Error" };
  return { value: text, type: "String" };
}

// ---- the model ----

class SheetModel {
  constructor(book, name) {
    this.book = book;
    this.id = `{sheet-${++book.nextId}}`;
    this.name = name;
    this.visibility = "Visible";
    this.values = new Map(); // row -> array of values (undefined: empty)
    this.formats = new Map(); // row -> array of number formats (undefined: General)
    this.formulas = new Map(); // key -> "=..."
    this.quoted = new Set(); // keys whose text was typed with a leading '
    this.styles = new Map(); // key -> {fill, font: {...}, horizontalAlignment, wrapText}
    this.rowHidden = new Set();
    this.colHidden = new Set();
    this.colWidths = new Map(); // 0-based col -> points
    this.freeze = { rows: 0, cols: 0 };
    this.notes = new Map(); // key -> {content, authorName}
    this.validations = []; // {r0, c0, rows, cols, rule, errorAlert, prompt}
    this.charts = [];
    this.merges = [];
    this.pageLayout = { orientation: "Portrait", zoom: { scale: 100 }, printTitleRows: null };
  }

  key(r, c) { return r * MAX_COLS + c; }

  get(r, c) {
    const row = this.values.get(r);
    return row === undefined || row[c] === undefined ? "" : row[c];
  }

  format(r, c) {
    const row = this.formats.get(r);
    return row === undefined || row[c] === undefined ? "General" : row[c];
  }

  setFormat(r, c, fmt) {
    let row = this.formats.get(r);
    if (row === undefined) this.formats.set(r, (row = []));
    row[c] = fmt === "General" || fmt === "" ? undefined : fmt;
  }

  put(r, c, value) {
    // a value as Excel's API writes it: strings go through typed-input conversion
    const k = this.key(r, c);
    this.formulas.delete(k);
    this.quoted.delete(k);
    if (value === "" ) return this.store(r, c, undefined);
    if (typeof value === "number" || typeof value === "boolean") return this.store(r, c, value);
    if (typeof value !== "string") throw new FakeOfficeError("InvalidArgument", `bad cell value ${JSON.stringify(value)}`);
    const typed = convertTyped(value, this.format(r, c));
    if (typed.formula) this.formulas.set(k, typed.formula);
    if (typed.quote) this.quoted.add(k);
    if (typed.format && this.format(r, c) === "General") this.setFormat(r, c, typed.format);
    this.store(r, c, typed.value === "" ? undefined : typed.value);
  }

  store(r, c, value) {
    let row = this.values.get(r);
    if (row === undefined) {
      if (value === undefined) return;
      this.values.set(r, (row = []));
    }
    row[c] = value;
  }

  style(r, c, create = false) {
    const k = this.key(r, c);
    let s = this.styles.get(k);
    if (!s && create) this.styles.set(k, (s = { fill: null, font: {}, horizontalAlignment: "General", wrapText: false }));
    return s;
  }

  usedBox(valuesOnly) {
    // the bounding box of non-empty cells (and, unless valuesOnly, formatted ones)
    let r0 = Infinity, r1 = -1, c0 = Infinity, c1 = -1;
    const see = (r, c) => { r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, c); c1 = Math.max(c1, c); };
    for (const [r, row] of this.values) {
      row.forEach((v, c) => { if (v !== undefined) see(r, c); });
    }
    for (const k of this.formulas.keys()) see(Math.floor(k / MAX_COLS), k % MAX_COLS);
    if (!valuesOnly) {
      for (const [r, row] of this.formats) row.forEach((f, c) => { if (f !== undefined) see(r, c); });
      for (const k of this.styles.keys()) see(Math.floor(k / MAX_COLS), k % MAX_COLS);
    }
    return r1 < 0 ? null : { r0, c0, rows: r1 - r0 + 1, cols: c1 - c0 + 1 };
  }
}

class BookModel {
  constructor(name = "Book1.xlsx") {
    this.nextId = 0;
    this.name = name;
    this.sheets = [];
    this.names = new Map(); // name -> {formula, visible, comment}
    this.active = null;
    this.selection = null; // {sheet, address}
    this.opened = []; // base64 workbooks given to Excel.createWorkbook
  }

  sheet(name) {
    const lower = String(name).toLowerCase();
    return this.sheets.find((s) => s.name.toLowerCase() === lower || s.id === name);
  }

  addSheet(name) {
    const n = name ?? `Sheet${this.sheets.length + 1}`;
    checkSheetName(this, n);
    const s = new SheetModel(this, n);
    this.sheets.push(s);
    if (!this.active) this.active = s;
    return s;
  }
}

function checkSheetName(book, name, self = null) {
  if (!name || name.length > 31 || /[[\]:*?/\\]/.test(name) || /^'|'$/.test(name)) {
    throw new FakeOfficeError("InvalidArgument", `bad sheet name ${JSON.stringify(name)}`);
  }
  const other = book.sheet(name);
  if (other && other !== self) throw new FakeOfficeError("ItemAlreadyExists", `sheet ${name} exists`);
}

export {
  MAX_ROWS, MAX_COLS, FakeOfficeError, colLetters, colNumber, quoteSheet, parseAddress,
  boxAddress, convertTyped, dateSerial, SheetModel, BookModel, checkSheetName,
};
