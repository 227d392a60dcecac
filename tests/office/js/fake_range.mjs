// Range and its format, fill, font and data validation in the fake Office.js.
import { ClientObject } from "./fake_base.mjs";
import { FakeOfficeError, MAX_COLS, MAX_ROWS, boxAddress } from "./fake_model.mjs";

const MAX_CELLS = 5_000_000; // a read or write this large would never fit one request
const ALIGN = new Set(["General", "Left", "Center", "Right", "Fill", "Justify", "CenterAcrossSelection", "Distributed"]);
const NAMED_COLORS = { white: "#FFFFFF", black: "#000000", red: "#FF0000", yellow: "#FFFF00", green: "#008000", blue: "#0000FF" };
const CLEAR = new Set(["All", "Formats", "Contents", "Hyperlinks", "RemoveHyperlinks", "ResetContents"]);

function cells(box, fn) {
  if (box.rows * box.cols > MAX_CELLS) {
    throw new FakeOfficeError("ResponsePayloadSizeLimitExceeded", `${box.rows}x${box.cols} cells at once`);
  }
  for (let r = 0; r < box.rows; r++) for (let c = 0; c < box.cols; c++) fn(box.r0 + r, box.c0 + c, r, c);
}

function grid(box, fn) {
  const out = [];
  cells(box, (r, c, i, j) => { (out[i] ??= [])[j] = fn(r, c); });
  return out;
}

function uniform(box, fn) {
  // a format property of several cells: their common value, or null when they differ
  let first; let seen = false; let same = true;
  cells(box, (r, c) => {
    const v = fn(r, c);
    if (!seen) { first = v; seen = true; } else if (v !== first) same = false;
  });
  return same ? first : null;
}

function color(value) {
  const named = NAMED_COLORS[String(value).toLowerCase()];
  if (named) return named;
  if (!/^#[0-9A-Fa-f]{6}$/.test(value)) throw new FakeOfficeError("InvalidArgument", `bad colour ${JSON.stringify(value)}`);
  return value.toUpperCase();
}

function checkShape(box, value, prop) {
  if (!Array.isArray(value) || value.length !== box.rows || value.some((row) => !Array.isArray(row) || row.length !== box.cols)) {
    throw new FakeOfficeError("InvalidArgument", `${prop}: the array is not ${box.rows}x${box.cols}`);
  }
}

class Range extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "Range"); }

  _props() {
    return ["address", "rowIndex", "columnIndex", "rowCount", "columnCount", "values",
      "numberFormat", "formulas", "valueTypes", "rowHidden", "columnHidden"];
  }

  _read({ sheet, box }, prop) {
    switch (prop) {
      case "address": return boxAddress(sheet.name, box);
      case "rowIndex": return box.r0;
      case "columnIndex": return box.c0;
      case "rowCount": return box.rows;
      case "columnCount": return box.cols;
      case "values": return grid(box, (r, c) => sheet.get(r, c));
      case "numberFormat": return grid(box, (r, c) => sheet.format(r, c));
      case "formulas": return grid(box, (r, c) => sheet.formulas.get(sheet.key(r, c)) ?? sheet.get(r, c));
      case "valueTypes": return grid(box, (r, c) => valueType(sheet, r, c));
      case "rowHidden": return rowsOf(box).every((r) => sheet.rowHidden.has(r));
      case "columnHidden": return colsOf(box).every((c) => sheet.colHidden.has(c));
      default: return super._read({ sheet, box }, prop);
    }
  }

  _write({ sheet, box }, prop, value) {
    switch (prop) {
      case "values":
      case "formulas":
        checkShape(box, value, prop);
        return cells(box, (r, c, i, j) => { if (value[i][j] !== null) sheet.put(r, c, value[i][j]); });
      case "numberFormat":
        checkShape(box, value, prop);
        return cells(box, (r, c, i, j) => { if (value[i][j] !== null) sheet.setFormat(r, c, String(value[i][j])); });
      case "rowHidden": return rowsOf(box).forEach((r) => (value ? sheet.rowHidden.add(r) : sheet.rowHidden.delete(r)));
      case "columnHidden": return colsOf(box).forEach((c) => (value ? sheet.colHidden.add(c) : sheet.colHidden.delete(c)));
      default: return super._write({ sheet, box }, prop, value);
    }
  }

  set values(v) { this._set("values", v); }
  get values() { return this._get("values"); }
  set numberFormat(v) { this._set("numberFormat", v); }
  get numberFormat() { return this._get("numberFormat"); }
  set formulas(v) { this._set("formulas", v); }
  get formulas() { return this._get("formulas"); }
  set rowHidden(v) { this._set("rowHidden", v); }
  get rowHidden() { return this._get("rowHidden"); }
  set columnHidden(v) { this._set("columnHidden", v); }
  get columnHidden() { return this._get("columnHidden"); }
  get valueTypes() { return this._get("valueTypes"); }
  get address() { return this._get("address"); }
  get rowIndex() { return this._get("rowIndex"); }
  get columnIndex() { return this._get("columnIndex"); }
  get rowCount() { return this._get("rowCount"); }
  get columnCount() { return this._get("columnCount"); }

  get format() { return (this._format ??= new RangeFormat(this._ctx, () => this._need())); }
  get dataValidation() { return (this._validation ??= new DataValidation(this._ctx, () => this._need())); }

  _derived(fn) { return new Range(this._ctx, () => { const t = this._need(); return { sheet: t.sheet, box: fn(t.box) }; }); }

  getCell(row, col) {
    return this._derived((b) => inside(b, { r0: b.r0 + row, c0: b.c0 + col, rows: 1, cols: 1 }));
  }

  getEntireRow() { return this._derived((b) => ({ r0: b.r0, c0: 0, rows: b.rows, cols: MAX_COLS })); }
  getEntireColumn() { return this._derived((b) => ({ r0: 0, c0: b.c0, rows: MAX_ROWS, cols: b.cols })); }
  getResizedRange(dr, dc) { return this._derived((b) => ({ ...b, rows: b.rows + dr, cols: b.cols + dc })); }
  getOffsetRange(dr, dc) { return this._derived((b) => ({ ...b, r0: b.r0 + dr, c0: b.c0 + dc })); }

  clear(applyTo = "All") {
    if (!CLEAR.has(applyTo)) throw new FakeOfficeError("InvalidArgument", `clear(${applyTo})`);
    this._call("clear", [applyTo], ({ sheet, box }) => {
      const contents = applyTo === "All" || applyTo === "Contents" || applyTo === "ResetContents";
      const formats = applyTo === "All" || applyTo === "Formats";
      cells(box, (r, c) => {
        if (contents) sheet.put(r, c, "");
        if (formats) { sheet.setFormat(r, c, "General"); sheet.styles.delete(sheet.key(r, c)); }
      });
    });
  }

  merge(across = false) {
    this._call("merge", [across], ({ sheet, box }) => {
      if (sheet.merges.some((m) => overlaps(m, box))) throw new FakeOfficeError("InvalidOperation", "overlaps a merged range");
      sheet.merges.push({ ...box });
    });
  }

  select() {
    this._call("select", [], ({ sheet, box }) => {
      if (sheet.visibility !== "Visible") throw new FakeOfficeError("InvalidOperation", "cannot select on a hidden sheet");
      sheet.book.active = sheet;
      sheet.book.selection = { sheet: sheet.name, address: boxAddress(sheet.name, box) };
    });
  }
}

function valueType(sheet, r, c) {
  const v = sheet.get(r, c);
  if (v === "") return "Empty";
  if (typeof v === "number") return "Double";
  if (typeof v === "boolean") return "Boolean";
  return /^#/.test(v) && !sheet.quoted.has(sheet.key(r, c)) ? "Error" : "String";
}

function rowsOf(box) { return Array.from({ length: box.rows }, (_, i) => box.r0 + i); }
function colsOf(box) { return Array.from({ length: box.cols }, (_, i) => box.c0 + i); }

function inside(outer, box) {
  if (box.r0 < 0 || box.c0 < 0 || box.r0 + box.rows > MAX_ROWS || box.c0 + box.cols > MAX_COLS) {
    throw new FakeOfficeError("InvalidArgument", "the range is outside the sheet");
  }
  return box;
}

function overlaps(a, b) {
  return a.r0 < b.r0 + b.rows && b.r0 < a.r0 + a.rows && a.c0 < b.c0 + b.cols && b.c0 < a.c0 + a.cols;
}

class RangeFormat extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "RangeFormat"); }
  _props() { return ["horizontalAlignment", "wrapText", "columnWidth", "rowHeight"]; }

  _read({ sheet, box }, prop) {
    switch (prop) {
      case "horizontalAlignment": return uniform(box, (r, c) => sheet.style(r, c)?.horizontalAlignment ?? "General");
      case "wrapText": return uniform(box, (r, c) => sheet.style(r, c)?.wrapText ?? false);
      case "columnWidth": return sheet.colWidths.get(box.c0) ?? 48;
      case "rowHeight": return 15;
      default: return super._read({ sheet, box }, prop);
    }
  }

  _write({ sheet, box }, prop, value) {
    switch (prop) {
      case "horizontalAlignment":
        if (!ALIGN.has(value)) throw new FakeOfficeError("InvalidArgument", `horizontalAlignment ${value}`);
        return cells(box, (r, c) => { sheet.style(r, c, true).horizontalAlignment = value; });
      case "wrapText": return cells(box, (r, c) => { sheet.style(r, c, true).wrapText = Boolean(value); });
      case "columnWidth":
        if (typeof value !== "number" || value < 0 || value > 1800) throw new FakeOfficeError("InvalidArgument", `columnWidth ${value}`);
        return colsOf(box).forEach((c) => sheet.colWidths.set(c, value));
      default: return super._write({ sheet, box }, prop, value);
    }
  }

  get horizontalAlignment() { return this._get("horizontalAlignment"); }
  set horizontalAlignment(v) { this._set("horizontalAlignment", v); }
  get wrapText() { return this._get("wrapText"); }
  set wrapText(v) { this._set("wrapText", v); }
  get columnWidth() { return this._get("columnWidth"); }
  set columnWidth(v) { this._set("columnWidth", v); }
  get rowHeight() { return this._get("rowHeight"); }
  get fill() { return (this._fill ??= new RangeFill(this._ctx, () => this._need())); }
  get font() { return (this._font ??= new RangeFont(this._ctx, () => this._need())); }
}

class RangeFill extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "RangeFill"); }
  _props() { return ["color", "pattern"]; }

  _read({ sheet, box }, prop) {
    if (prop === "color") return uniform(box, (r, c) => sheet.style(r, c)?.fill ?? "#FFFFFF");
    if (prop === "pattern") return uniform(box, (r, c) => (sheet.style(r, c)?.fill ? "Solid" : "None"));
    return super._read({ sheet, box }, prop);
  }

  _write({ sheet, box }, prop, value) {
    if (prop !== "color") return super._write({ sheet, box }, prop, value);
    const hex = color(value);
    return cells(box, (r, c) => { sheet.style(r, c, true).fill = hex; });
  }

  get color() { return this._get("color"); }
  set color(v) { this._set("color", v); }
  get pattern() { return this._get("pattern"); }
  clear() { this._call("clear", [], ({ sheet, box }) => cells(box, (r, c) => { const s = sheet.style(r, c); if (s) s.fill = null; })); }
}

const FONT_DEFAULTS = { bold: false, italic: false, size: 11, color: "#000000", name: "Calibri" };

class RangeFont extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "RangeFont"); }
  _props() { return Object.keys(FONT_DEFAULTS); }

  _read({ sheet, box }, prop) {
    if (!(prop in FONT_DEFAULTS)) return super._read({ sheet, box }, prop);
    return uniform(box, (r, c) => sheet.style(r, c)?.font[prop] ?? FONT_DEFAULTS[prop]);
  }

  _write({ sheet, box }, prop, value) {
    if (prop === "color") value = color(value);
    if (prop === "size" && !(typeof value === "number" && value >= 1 && value <= 409)) {
      throw new FakeOfficeError("InvalidArgument", `font size ${value}`);
    }
    if ((prop === "bold" || prop === "italic") && typeof value !== "boolean") {
      throw new FakeOfficeError("InvalidArgument", `font ${prop} ${value}`);
    }
    return cells(box, (r, c) => { sheet.style(r, c, true).font[prop] = value; });
  }

  get bold() { return this._get("bold"); }
  set bold(v) { this._set("bold", v); }
  get italic() { return this._get("italic"); }
  set italic(v) { this._set("italic", v); }
  get size() { return this._get("size"); }
  set size(v) { this._set("size", v); }
  get color() { return this._get("color"); }
  set color(v) { this._set("color", v); }
  get name() { return this._get("name"); }
  set name(v) { this._set("name", v); }
}

const RULES = new Set(["list", "wholeNumber", "decimal", "date", "time", "textLength", "custom"]);
const STYLES = new Set(["Stop", "Warning", "Information"]);

function checkRule(rule) {
  const keys = Object.keys(rule ?? {});
  if (keys.length !== 1 || !RULES.has(keys[0])) throw new FakeOfficeError("InvalidArgument", `bad rule ${JSON.stringify(rule)}`);
  if (keys[0] === "list" && typeof rule.list.source !== "string") throw new FakeOfficeError("InvalidArgument", "list.source");
}

function checkTexts(obj, kind) {
  if ((obj.title ?? "").length > 32) throw new FakeOfficeError("InvalidArgument", `${kind} title over 32 characters`);
  if ((obj.message ?? "").length > 255) throw new FakeOfficeError("InvalidArgument", `${kind} message over 255 characters`);
  if (kind === "errorAlert" && obj.style !== undefined && !STYLES.has(obj.style)) {
    throw new FakeOfficeError("InvalidArgument", `errorAlert style ${obj.style}`);
  }
}

function subtract(rects, box) {
  // rectangles minus box (validations outside the box are kept)
  const out = [];
  for (const v of rects) {
    if (!overlaps(v, box)) { out.push(v); continue; }
    const top = box.r0 - v.r0, bottom = v.r0 + v.rows - (box.r0 + box.rows);
    const r0 = Math.max(v.r0, box.r0), r1 = Math.min(v.r0 + v.rows, box.r0 + box.rows);
    if (top > 0) out.push({ ...v, rows: top });
    if (bottom > 0) out.push({ ...v, r0: box.r0 + box.rows, rows: bottom });
    if (box.c0 > v.c0) out.push({ ...v, r0, rows: r1 - r0, cols: box.c0 - v.c0 });
    const right = v.c0 + v.cols - (box.c0 + box.cols);
    if (right > 0) out.push({ ...v, r0, rows: r1 - r0, c0: box.c0 + box.cols, cols: right });
  }
  return out;
}

class DataValidation extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "DataValidation"); }
  _props() { return ["rule", "errorAlert", "prompt", "ignoreBlanks", "type"]; }

  _exact(sheet, box) {
    return sheet.validations.find((v) => v.r0 === box.r0 && v.c0 === box.c0 && v.rows === box.rows && v.cols === box.cols);
  }

  _read({ sheet, box }, prop) {
    const v = this._exact(sheet, box);
    switch (prop) {
      case "rule": return v?.rule ?? null;
      case "errorAlert": return v?.errorAlert ?? null;
      case "prompt": return v?.prompt ?? null;
      case "ignoreBlanks": return v?.ignoreBlanks ?? true;
      case "type": return v?.rule ? Object.keys(v.rule)[0] : "None";
      default: return super._read({ sheet, box }, prop);
    }
  }

  _write({ sheet, box }, prop, value) {
    if (prop === "rule") checkRule(value);
    else if (prop === "errorAlert" || prop === "prompt") checkTexts(value, prop);
    else if (prop !== "ignoreBlanks") return super._write({ sheet, box }, prop, value);
    let v = this._exact(sheet, box);
    if (!v) {
      sheet.validations = subtract(sheet.validations, box);
      v = { ...box, rule: null, errorAlert: null, prompt: null, ignoreBlanks: true };
      sheet.validations.push(v);
    }
    v[prop] = structuredClone(value);
  }

  get rule() { return this._get("rule"); }
  set rule(v) { this._set("rule", v); }
  get errorAlert() { return this._get("errorAlert"); }
  set errorAlert(v) { this._set("errorAlert", v); }
  get prompt() { return this._get("prompt"); }
  set prompt(v) { this._set("prompt", v); }
  get ignoreBlanks() { return this._get("ignoreBlanks"); }
  set ignoreBlanks(v) { this._set("ignoreBlanks", v); }
  get type() { return this._get("type"); }
  clear() { this._call("clear", [], ({ sheet, box }) => { sheet.validations = subtract(sheet.validations, box); }); }
}

export { Range, RangeFormat, RangeFill, RangeFont, DataValidation, overlaps, color };
