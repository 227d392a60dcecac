// Shared set-up of the Node tests: a fresh fake Excel, Office and OfficeRuntime installed
// as the globals the client reads, the contract's ops from protocol.json, the client path.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createFake } from "./fake_excel.mjs";
import { createOffice, createRuntimeStorage } from "./fake_office.mjs";

export const STATIC = new URL("../../../addin/office/static/", import.meta.url);
export const PROTOCOL = JSON.parse(readFileSync(fileURLToPath(new URL("protocol.json", STATIC)), "utf8"));

export function install({ notes = true, sets = undefined, language = "en-US", openDialog = null } = {}) {
  const fake = createFake({ notes });
  const office = createOffice({
    sets: sets ?? { ExcelApi: notes ? "1.18" : "1.17", SharedRuntime: "1.1", DialogApi: "1.2" },
    language, openDialog,
  });
  const runtime = createRuntimeStorage();
  globalThis.Excel = fake.Excel;
  globalThis.Office = office;
  globalThis.OfficeRuntime = runtime;
  return { fake, office, runtime };
}

export function sheetInfo(name, extra = {}) {
  return { name, visibility: "visible", rows: 0, cols: 0, freeze: null, ...extra };
}

export function maxOf(list) {
  return list.reduce((m, n) => Math.max(m, n), 0);
}
