// Worksheets, their freeze panes, notes, charts and page layout in the fake Office.js.
import { ClientCollection, ClientObject } from "./fake_base.mjs";
import { FakeOfficeError, MAX_COLS, MAX_ROWS, boxAddress, checkSheetName, parseAddress } from "./fake_model.mjs";
import { Range } from "./fake_range.mjs";

const VISIBILITY = new Set(["Visible", "Hidden", "VeryHidden"]);

function visibleOthers(book, sheet) {
  return book.sheets.filter((s) => s !== sheet && s.visibility === "Visible");
}

function rangeOn(ctx, sheetProxy, boxOf) {
  return new Range(ctx, () => {
    const sheet = sheetProxy._need();
    return { sheet, box: boxOf(sheet) };
  });
}

function cellOf(ctx, sheetProxy, address) {
  // a Range proxy or an address ("A1", "Sheet!A1") -> {sheet, r, c} at sync time
  if (address instanceof Object && address._kind === "Range") {
    const { sheet, box } = address._need();
    return { sheet, box };
  }
  const box = parseAddress(address);
  const book = sheetProxy._need().book ?? sheetProxy._need();
  const sheet = box.sheet ? book.sheet(box.sheet) : sheetProxy._need();
  if (!sheet || !sheet.values) throw new FakeOfficeError("ItemNotFound", `no sheet for ${address}`);
  return { sheet, box };
}

class Worksheet extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "Worksheet"); }
  _props() { return ["name", "id", "position", "visibility"]; }

  _read(s, prop) {
    switch (prop) {
      case "name": return s.name;
      case "id": return s.id;
      case "position": return s.book.sheets.indexOf(s);
      case "visibility": return s.visibility;
      default: return super._read(s, prop);
    }
  }

  _write(s, prop, value) {
    const book = s.book;
    switch (prop) {
      case "name": checkSheetName(book, value, s); s.name = value; return;
      case "position": {
        if (!Number.isInteger(value) || value < 0 || value >= book.sheets.length) {
          throw new FakeOfficeError("InvalidArgument", `position ${value}`);
        }
        book.sheets.splice(book.sheets.indexOf(s), 1);
        book.sheets.splice(value, 0, s);
        return;
      }
      case "visibility": {
        if (!VISIBILITY.has(value)) throw new FakeOfficeError("InvalidArgument", `visibility ${value}`);
        if (value !== "Visible" && visibleOthers(book, s).length === 0) {
          throw new FakeOfficeError("InvalidOperation", "a workbook keeps at least one visible sheet");
        }
        s.visibility = value;
        if (value !== "Visible" && book.active === s) book.active = visibleOthers(book, s)[0];
        return;
      }
      default: return super._write(s, prop, value);
    }
  }

  get name() { return this._get("name"); }
  set name(v) { this._set("name", v); }
  get id() { return this._get("id"); }
  get position() { return this._get("position"); }
  set position(v) { this._set("position", v); }
  get visibility() { return this._get("visibility"); }
  set visibility(v) { this._set("visibility", v); }

  getRange(address) {
    if (address === undefined) return rangeOn(this._ctx, this, () => ({ r0: 0, c0: 0, rows: MAX_ROWS, cols: MAX_COLS }));
    const box = parseAddress(address);
    if (box.sheet) throw new FakeOfficeError("InvalidArgument", "Worksheet.getRange takes an address without a sheet");
    return rangeOn(this._ctx, this, () => box);
  }

  getRangeByIndexes(row, col, rows, cols) {
    if (![row, col, rows, cols].every(Number.isInteger) || row < 0 || col < 0 || rows < 1 || cols < 1
        || row + rows > MAX_ROWS || col + cols > MAX_COLS) {
      throw new FakeOfficeError("InvalidArgument", `getRangeByIndexes(${row}, ${col}, ${rows}, ${cols})`);
    }
    return rangeOn(this._ctx, this, () => ({ r0: row, c0: col, rows, cols }));
  }

  getCell(row, col) { return this.getRangeByIndexes(row, col, 1, 1); }

  getUsedRange(valuesOnly = false) {
    return rangeOn(this._ctx, this, (s) => s.usedBox(valuesOnly) ?? { r0: 0, c0: 0, rows: 1, cols: 1 });
  }

  getUsedRangeOrNullObject(valuesOnly = false) {
    return new Range(this._ctx, () => {
      const sheet = this._need();
      const box = sheet.usedBox(valuesOnly);
      return box ? { sheet, box } : null;
    });
  }

  activate() {
    this._call("activate", [], (s) => {
      if (s.visibility !== "Visible") throw new FakeOfficeError("InvalidOperation", `cannot activate hidden sheet ${s.name}`);
      s.book.active = s;
    });
  }

  delete() {
    this._call("delete", [], (s) => {
      const book = s.book;
      if (visibleOthers(book, s).length === 0) throw new FakeOfficeError("InvalidOperation", "cannot delete the last visible sheet");
      book.sheets.splice(book.sheets.indexOf(s), 1);
      s.deleted = true;
      if (book.active === s) book.active = visibleOthers(book, s)[0];
    });
  }

  get freezePanes() { return (this._freeze ??= new FreezePanes(this._ctx, () => this._need(), this)); }
  get notes() { return (this._notes ??= new NoteCollection(this._ctx, () => this._need(), this)); }
  get charts() { return (this._charts ??= new ChartCollection(this._ctx, () => this._need(), this)); }
  get pageLayout() { return (this._page ??= new PageLayout(this._ctx, () => this._need(), this)); }
}

class FreezePanes extends ClientObject {
  constructor(ctx, resolve, sheet) { super(ctx, resolve, "WorksheetFreezePanes"); this._sheet = sheet; }

  freezeRows(count = 1) { this._call("freezeRows", [count], (s) => { s.freeze = { rows: count, cols: 0 }; }); }
  freezeColumns(count = 1) { this._call("freezeColumns", [count], (s) => { s.freeze = { rows: 0, cols: count }; }); }
  unfreeze() { this._call("unfreeze", [], (s) => { s.freeze = { rows: 0, cols: 0 }; }); }

  freezeAt(frozen) {
    this._call("freezeAt", [typeof frozen === "string" ? frozen : "range"], (s) => {
      const { box } = cellOf(this._ctx, this._sheet, frozen);
      if (box.r0 !== 0 || box.c0 !== 0) throw new FakeOfficeError("InvalidArgument", "freezeAt takes a range from A1");
      s.freeze = { rows: box.rows === MAX_ROWS ? 0 : box.rows, cols: box.cols === MAX_COLS ? 0 : box.cols };
    });
  }

  getLocationOrNullObject() {
    return new Range(this._ctx, () => {
      const s = this._need();
      const { rows, cols } = s.freeze;
      if (!rows && !cols) return null;
      return { sheet: s, box: { r0: 0, c0: 0, rows: rows || MAX_ROWS, cols: cols || MAX_COLS } };
    });
  }
}

class Note extends ClientObject {
  // target: {sheet, r, c}
  constructor(ctx, resolve) { super(ctx, resolve, "Note"); }
  _props() { return ["content", "authorName"]; }

  _read(t, prop) {
    const note = t.sheet.notes.get(t.sheet.key(t.r, t.c));
    if (!note) throw new FakeOfficeError("ItemNotFound", "the note is gone");
    if (prop === "content") return note.content;
    if (prop === "authorName") return note.authorName;
    return super._read(t, prop);
  }

  _write(t, prop, value) {
    if (prop !== "content") return super._write(t, prop, value);
    t.sheet.notes.get(t.sheet.key(t.r, t.c)).content = String(value);
  }

  get content() { return this._get("content"); }
  set content(v) { this._set("content", v); }
  get authorName() { return this._get("authorName"); }
  delete() { this._call("delete", [], (t) => { t.sheet.notes.delete(t.sheet.key(t.r, t.c)); }); }
  getLocation() {
    return new Range(this._ctx, () => { const t = this._need(); return { sheet: t.sheet, box: { r0: t.r, c0: t.c, rows: 1, cols: 1 } }; });
  }
}

class NoteCollection extends ClientCollection {
  // on a worksheet (target: SheetModel) or the workbook (target: BookModel)
  constructor(ctx, resolve, owner) { super(ctx, resolve, "NoteCollection"); this._owner = owner; }

  _check() {
    if (!this._ctx._fake.options.notes) throw new FakeOfficeError("ApiNotFound", "notes need ExcelApi 1.18");
  }

  _sheets(t) { return t.sheets ?? [t]; }

  _list(t) {
    this._check();
    const out = [];
    for (const sheet of this._sheets(t)) {
      for (const k of [...sheet.notes.keys()].sort((a, b) => a - b)) {
        const item = new Note(this._ctx, () => ({ sheet, r: Math.floor(k / MAX_COLS), c: k % MAX_COLS }));
        out.push(item);
      }
    }
    return out;
  }

  _at(key) {
    const { sheet, box } = cellOf(this._ctx, this._owner, key);
    if (box.rows !== 1 || box.cols !== 1) throw new FakeOfficeError("InvalidArgument", "a note belongs to one cell");
    return { sheet, r: box.r0, c: box.c0 };
  }

  add(cellAddress, content) {
    let where = null;
    const note = new Note(this._ctx, () => where);
    this._call("add", [typeof cellAddress === "string" ? cellAddress : "range", content], () => {
      this._check();
      where = this._at(cellAddress);
      const k = where.sheet.key(where.r, where.c);
      if (where.sheet.notes.has(k)) throw new FakeOfficeError("InvalidArgument", "the cell already has a note");
      where.sheet.notes.set(k, { content: String(content), authorName: this._ctx._fake.options.author });
    });
    return note;
  }

  getItem(key) {
    return new Note(this._ctx, () => {
      this._check();
      const at = this._at(key);
      if (!at.sheet.notes.has(at.sheet.key(at.r, at.c))) throw new FakeOfficeError("ItemNotFound", `no note at ${key}`);
      return at;
    });
  }

  getItemOrNullObject(key) {
    return new Note(this._ctx, () => {
      this._check();
      const at = this._at(key);
      return at.sheet.notes.has(at.sheet.key(at.r, at.c)) ? at : null;
    });
  }
}

const CHART_TYPES = new Set(["ColumnClustered", "ColumnStacked", "BarClustered", "BarStacked", "Line",
  "LineMarkers", "Pie", "Doughnut", "Area", "XYScatter"]);

class ChartTitle extends ClientObject {
  constructor(ctx, resolve) { super(ctx, resolve, "ChartTitle"); }
  _props() { return ["text"]; }
  _read(chart, prop) { return prop === "text" ? chart.title : super._read(chart, prop); }
  _write(chart, prop, value) { if (prop !== "text") return super._write(chart, prop, value); chart.title = String(value); }
  get text() { return this._get("text"); }
  set text(v) { this._set("text", v); }
}

class ChartSeries extends ClientObject {
  // target: [chart, series record]
  constructor(ctx, resolve, owner) { super(ctx, resolve, "ChartSeries"); this._owner = owner; }
  _props() { return ["name"]; }
  _read([, s], prop) { return prop === "name" ? s.name : super._read([null, s], prop); }
  get name() { return this._get("name"); }
  setValues(range) { this._call("setValues", ["range"], ([chart, s]) => { s.values = boxAddress(chart.sheet.name, cellOf(this._ctx, this._owner, range).box); }); }
  setXAxisValues(range) { this._call("setXAxisValues", ["range"], ([chart, s]) => { s.categories = boxAddress(chart.sheet.name, cellOf(this._ctx, this._owner, range).box); }); }
}

class ChartSeriesCollection extends ClientCollection {
  constructor(ctx, resolve, owner) { super(ctx, resolve, "ChartSeriesCollection"); this._owner = owner; }
  _list(chart) { return chart.series.map((s) => new ChartSeries(this._ctx, () => [chart, s], this._owner)); }
  add(name = "") {
    let made = null;
    const series = new ChartSeries(this._ctx, () => made, this._owner);
    this._call("add", [name], (chart) => {
      const s = { name: String(name), values: null, categories: null };
      chart.series.push(s);
      made = [chart, s];
    });
    return series;
  }
}

class Chart extends ClientObject {
  constructor(ctx, resolve, owner) { super(ctx, resolve, "Chart"); this._owner = owner; }
  _props() { return ["name", "width", "height"]; }
  _read(chart, prop) { return ["name", "width", "height"].includes(prop) ? chart[prop] : super._read(chart, prop); }
  _write(chart, prop, value) {
    if (prop !== "width" && prop !== "height") return super._write(chart, prop, value);
    if (typeof value !== "number" || value <= 0) throw new FakeOfficeError("InvalidArgument", `chart ${prop} ${value}`);
    chart[prop] = value;
  }
  get name() { return this._get("name"); }
  get width() { return this._get("width"); }
  set width(v) { this._set("width", v); }
  get height() { return this._get("height"); }
  set height(v) { this._set("height", v); }
  get title() { return (this._title ??= new ChartTitle(this._ctx, () => this._need())); }
  get series() { return (this._series ??= new ChartSeriesCollection(this._ctx, () => this._need(), this._owner)); }
  setPosition(startCell, endCell) {
    this._call("setPosition", [String(startCell), String(endCell ?? "")], (chart) => {
      chart.anchor = boxAddress(chart.sheet.name, cellOf(this._ctx, this._owner, startCell).box);
    });
  }
}

class ChartCollection extends ClientCollection {
  constructor(ctx, resolve, owner) { super(ctx, resolve, "ChartCollection"); this._owner = owner; }
  _list(s) { return s.charts.map((c) => new Chart(this._ctx, () => c, this._owner)); }

  add(type, sourceData, seriesBy = "Auto") {
    let made = null;
    const chart = new Chart(this._ctx, () => made, this._owner);
    this._call("add", [type, seriesBy], (s) => {
      if (!CHART_TYPES.has(type)) throw new FakeOfficeError("InvalidArgument", `chart type ${type}`);
      if (!["Auto", "Columns", "Rows"].includes(seriesBy)) throw new FakeOfficeError("InvalidArgument", `seriesBy ${seriesBy}`);
      const { sheet, box } = cellOf(this._ctx, this._owner, sourceData);
      made = { sheet: s, name: `Chart ${s.charts.length + 1}`, type, seriesBy, source: boxAddress(sheet.name, box),
        title: "", anchor: null, width: 360, height: 216, series: [] };
      s.charts.push(made);
    });
    return chart;
  }
}

class PageLayout extends ClientObject {
  constructor(ctx, resolve, owner) { super(ctx, resolve, "PageLayout"); this._owner = owner; }
  _props() { return ["orientation", "zoom"]; }
  _read(s, prop) { return prop in s.pageLayout ? s.pageLayout[prop] : super._read(s, prop); }

  _write(s, prop, value) {
    if (prop === "orientation" && !["Portrait", "Landscape"].includes(value)) {
      throw new FakeOfficeError("InvalidArgument", `orientation ${value}`);
    }
    if (prop === "zoom") {
      const keys = Object.keys(value ?? {});
      if (!keys.length || keys.some((k) => !["scale", "horizontalFitToPages", "verticalFitToPages"].includes(k)
          || !Number.isInteger(value[k]) || value[k] < 0)) {
        throw new FakeOfficeError("InvalidArgument", `zoom ${JSON.stringify(value)}`);
      }
    } else if (prop !== "orientation") return super._write(s, prop, value);
    s.pageLayout[prop] = structuredClone(value);
  }

  get orientation() { return this._get("orientation"); }
  set orientation(v) { this._set("orientation", v); }
  get zoom() { return this._get("zoom"); }
  set zoom(v) { this._set("zoom", v); }
  setPrintTitleRows(rows) {
    this._call("setPrintTitleRows", [String(rows)], (s) => {
      if (typeof rows !== "string") throw new FakeOfficeError("InvalidArgument", "setPrintTitleRows takes an address");
      const box = parseAddress(rows);
      if (box.cols !== MAX_COLS) throw new FakeOfficeError("InvalidArgument", "print titles are whole rows");
      s.pageLayout.printTitleRows = `$${box.r0 + 1}:$${box.r0 + box.rows}`;
    });
  }
}

export { Worksheet, FreezePanes, Note, NoteCollection, Chart, ChartCollection, PageLayout, cellOf, CHART_TYPES };
