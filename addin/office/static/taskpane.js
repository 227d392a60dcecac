// The task pane (the add-in's shared runtime page): the buttons from /office/api/config
// in the workbook's language, sign-in and sign-out, one command at a time with its
// progress, then its result: summary, per-row messages, conflicts with their choices.
import { associateAll } from "./commands.js";
import { ActionError } from "./excel_apply.js";
import { clearSignIn, loadSignIn, openSignInDialog, saveSignIn } from "./auth.js";
import { Protocol } from "./protocol.js";
import { HOST, runCommand } from "./runner.js";
import { langOf, wordsFor } from "./words.js";
import * as view from "./taskpane_view.js";

const app = {
  lang: "zh",
  w: wordsFor("zh"),
  config: null,
  signIn: null,
  busy: false,
  protocol: new Protocol({ base: "api" }),
  host: HOST,
  last: null,
};
globalThis.crmTaskpane = app; // diagnostics: the last outcome and every call (app.protocol.sent)

async function workbookLang() {
  // the workbook's own language (_meta key "lang"), else Office's display language
  try {
    const meta = await app.host.readMeta();
    if (meta.lang) return langOf(meta.lang);
  } catch (err) {
    console.warn("CRM: _meta not read", err);
  }
  return langOf(Office.context.displayLanguage);
}

async function useLang(lang) {
  if (app.config && lang === app.lang) return;
  app.lang = lang;
  app.w = wordsFor(lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  app.config = await app.protocol.config(lang);
  view.drawButtons(app.config.groups, press);
  view.drawAccount(app.w, app.signIn, toggleSignIn);
  view.$("status").textContent = app.config.version ? `CRM ${app.config.version}` : "";
}

async function start() {
  app.signIn = await loadSignIn();
  app.protocol.token = app.signIn?.token ?? null;
  await useLang(await workbookLang());
}

async function signIn() {
  view.drawError("");
  let got = null;
  try {
    got = await openSignInDialog(app.lang);
  } catch (err) {
    view.drawError(String(err.message ?? err));
    return false;
  }
  if (!got) return false;
  await saveSignIn(got);
  app.signIn = got;
  app.protocol.token = got.token;
  view.drawAccount(app.w, app.signIn, toggleSignIn);
  return true;
}

async function signOut() {
  await clearSignIn();
  app.signIn = null;
  app.protocol.token = null;
  view.drawAccount(app.w, null, toggleSignIn);
  view.$("status").textContent = app.w.signed_out;
}

function toggleSignIn() {
  return app.signIn ? signOut() : signIn();
}

function showFailure(err) {
  if (err?.signedOut) {
    clearSignIn();
    app.signIn = null;
    app.protocol.token = null;
    view.drawAccount(app.w, null, toggleSignIn);
    const again = view.el("button", { type: "button", onclick: () => signIn() }, app.w.sign_in);
    view.drawError(`${app.w.token_expired} — ${err.text(app.lang)} [${err.code}]`, again);
  } else if (err?.name === "ApiError") {
    view.drawError(`${err.text(app.lang)} [${err.code}]`);
  } else if (err instanceof ActionError) {
    view.drawError(`${app.w.action_failed}${err.message}`);
  } else {
    view.drawError(`${err?.message ?? err}${err?.code ? ` [${err.code}]` : ""}`);
  }
}

const handlers = {
  async goTo(m) {
    try {
      const col = m.field ? await app.host.findColumn(m.sheet, m.field) : 0;
      await app.host.selectCell(m.sheet, m.row, col || 1);
    } catch (err) { showFailure(err); }
  },
  async choose(conflict, value, select) {
    const { sheet, row, col } = conflict.choice;
    try {
      await app.host.applyActions([{ op: "set_values", sheet, row, col, values: [[value]] }]);
      select.classList.add("chosen");
      view.$("status").textContent = app.w.choice_written;
    } catch (err) { showFailure(err); }
  },
  download(file) { view.saveBytes(file.name, file.bytes); },
};

async function runButton(button) {
  let file = null;
  if (button.handler === "import_file") {
    file = await view.pickFile(app.w);
    if (!file) return null;
  }
  await useLang(await workbookLang());
  const outcome = await runCommand({
    command: button.handler, lang: app.lang, protocol: app.protocol, host: app.host, file,
    onProgress: (p) => view.drawProgress(app.w, p),
  });
  outcome.notes = outcome.applied.warnings.includes("notes") ? [app.w.notes_unsupported] : [];
  const sheets = [...new Set((outcome.result?.messages ?? []).map((m) => m.sheet).filter(Boolean))];
  outcome.headers = sheets.length ? await app.host.readHeaders(sheets).catch(() => ({})) : {};
  return outcome;
}

async function press(id) {
  await started;
  const button = app.config?.buttons.find((b) => b.id === id);
  if (!button) return;
  if (button.handler === "sign_in") { await signIn(); return; }
  if (app.busy) { view.drawError(app.w.busy); return; }
  if (!app.signIn && !(await signIn())) { view.drawError(app.w.sign_in_first); return; }
  app.busy = true;
  view.setBusy(true);
  view.drawError("");
  view.drawResult(app.w, null, null);
  try {
    const outcome = await runButton(button);
    if (outcome) {
      app.last = outcome;
      view.drawResult(app.w, button.label, outcome, handlers);
    }
  } catch (err) {
    showFailure(err);
  } finally {
    app.busy = false;
    view.setBusy(false);
    view.drawProgress(app.w, null);
  }
}

app.press = press;
const started = Office.onReady().then(() => {
  associateAll(press);
  return start();
}).catch((err) => showFailure(err));
