// One command end to end: open a session with the workbook's sheet list, upload the sheets
// the service asks for (row blocks under its byte limit, then their notes), upload a file
// for an import, run, apply the action pages in order, open the files it produced.
import * as read from "./excel_read.js";
import { applyActions } from "./excel_apply.js";

export const HOST = { ...read, applyActions };

function noteChunks(group, maxBytes) {
  // one sheet's notes in posts under maxBytes (a sheet has rarely more than a few)
  const out = [];
  let chunk = [];
  let used = 64;
  for (const note of group.notes) {
    const cost = read.byteLength(note) + 1;
    if (chunk.length && used + cost > maxBytes) { out.push(chunk); chunk = []; used = 64; }
    chunk.push(note);
    used += cost;
  }
  if (chunk.length) out.push(chunk);
  return out.map((notes) => ({ sheet: group.sheet, notes }));
}

async function upload(protocol, host, id, info, wanted, maxBytes, progress) {
  const sheets = info.sheets.filter((s) => wanted.has(s.name));
  let done = 0;
  const cells = sheets.reduce((n, s) => n + s.rows, 0) || 1;
  for (const s of sheets) {
    progress("uploading", done / cells, s.name);
    await host.readBlocks(s.name, s.rows, s.cols, {
      maxBytes,
      onBlock: async (block) => {
        await protocol.cells(id, block);
        done += block.values.length;
        progress("uploading", done / cells, s.name);
      },
    });
  }
  const notes = await host.readNotes(sheets.map((s) => s.name));
  for (const group of notes ?? []) {
    for (const chunk of noteChunks(group, maxBytes)) await protocol.notes(id, chunk);
  }
  return notes !== null;
}

async function applyPages(protocol, host, id, pages, notesOk, progress) {
  // page k+1 is fetched while page k is written
  const out = { syncs: 0, warnings: [], opened: [], actions: 0 };
  let next = pages > 0 ? protocol.actions(id, 0) : null;
  for (let k = 0; k < pages; k++) {
    const page = await next;
    next = k + 1 < pages ? protocol.actions(id, k + 1) : null;
    progress("applying", k / pages, "");
    const got = await host.applyActions(page.actions, { notesOk });
    out.syncs += got.syncs;
    out.actions += page.actions.length;
    out.opened.push(...got.opened);
    for (const w of got.warnings) if (!out.warnings.includes(w)) out.warnings.push(w);
  }
  return out;
}

async function openFiles(protocol, host, id, opened, progress) {
  const files = [];
  for (const { file, name } of opened) {
    progress("downloading", 0, name);
    const got = await protocol.downloadFile(id, file);
    const shown = await host.openWorkbook(got.base64);
    files.push({ file, name, shown, bytes: got.bytes });
  }
  return files;
}

export async function runCommand({ command, lang, options = {}, protocol, host = HOST, file = null, onProgress = null }) {
  // -> {result, applied: {syncs, warnings, opened, actions}, files: [{file, name, shown, bytes}]}
  const progress = (stage, fraction, detail) => onProgress?.({ stage, fraction, detail });
  progress("reading", 0, "");
  const info = await host.readWorkbookInfo();
  const opts = file ? { ...options, file: file.name } : options;
  const session = await protocol.open(command, lang, opts, info);
  const id = session.session;
  const maxBytes = session.max_bytes ?? 4_000_000;
  try {
    let notesOk = await upload(protocol, host, id, info, new Set(session.upload ?? []), maxBytes, progress);
    if (!host.notesSupported()) notesOk = false;
    if (file) await protocol.uploadFile(id, file.name, file.bytes);
    progress("running", 0, "");
    const ran = await protocol.run(id);
    const applied = await applyPages(protocol, host, id, ran.pages ?? 0, notesOk, progress);
    if (!notesOk && !applied.warnings.includes("notes")) applied.warnings.push("notes");
    const files = await openFiles(protocol, host, id, applied.opened, progress);
    progress("done", 1, "");
    return { result: ran.result, applied, files };
  } finally {
    protocol.close(id).catch(() => {});
  }
}
