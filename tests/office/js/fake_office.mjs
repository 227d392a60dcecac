// The fake Office (common API) and OfficeRuntime the client meets besides Excel: onReady,
// actions.associate, addin.showAsTaskpane, requirements, the dialog API, runtime storage.
// openDialog(url, dialog) is how a test (or the browser page) plays the dialog's side.

function createOffice({ sets = { ExcelApi: "1.18", SharedRuntime: "1.1", DialogApi: "1.2" },
  language = "en-US", openDialog = null } = {}) {
  const calls = { associated: new Map(), taskpane: 0, dialogs: [] };
  const office = {
    HostType: { Excel: "Excel" },
    PlatformType: { OfficeOnline: "OfficeOnline", PC: "PC", Mac: "Mac" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    onReady(callback) {
      const info = { host: "Excel", platform: "OfficeOnline" };
      if (callback) callback(info);
      return Promise.resolve(info);
    },
    actions: {
      associate(id, fn) {
        if (typeof id !== "string" || typeof fn !== "function") throw new TypeError("associate(id, fn)");
        calls.associated.set(id, fn);
      },
    },
    addin: {
      showAsTaskpane() { calls.taskpane += 1; return Promise.resolve(); },
      hide() { return Promise.resolve(); },
    },
    context: {
      displayLanguage: language,
      requirements: {
        isSetSupported(name, version = "1.1") {
          const have = sets[name];
          return have !== undefined && compare(have, String(version)) >= 0;
        },
      },
      ui: {
        displayDialogAsync(url, options, callback) {
          const dialog = makeDialog(url, calls);
          calls.dialogs.push(dialog);
          const done = typeof options === "function" ? options : callback;
          if (!/^https?:\/\//.test(url)) {
            done({ status: "failed", error: { code: 12003, message: "the dialog URL must be absolute https" } });
            return;
          }
          done({ status: "succeeded", value: dialog });
          if (openDialog) openDialog(url, dialog);
        },
        messageParent(message) {
          if (typeof message !== "string") throw new TypeError("messageParent takes a string");
          const parentHook = globalThis.__fakeMessageParent;
          if (parentHook) parentHook(message);
          else calls.sentToParent = [...(calls.sentToParent ?? []), message];
        },
      },
    },
  };
  // a ribbon click: the function command the manifest names, with its completion event
  office.__click = async (id) => {
    const fn = calls.associated.get(id);
    if (!fn) throw new Error(`no handler associated with ${id}`);
    let completed = false;
    await fn({ completed: () => { completed = true; }, source: { id } });
    return completed;
  };
  office.__calls = calls;
  return office;
}

function compare(a, b) {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

function makeDialog(url, calls) {
  const handlers = {};
  const dialog = {
    url,
    closed: false,
    addEventHandler(type, fn) { handlers[type] = fn; },
    close() { dialog.closed = true; },
    messageChild() {},
    // the dialog's side: what messageParent delivers, or the user closing it
    __message(message) { handlers.dialogMessageReceived?.({ message, origin: new URL(url).origin }); },
    __closeByUser() { handlers.dialogEventReceived?.({ error: 12006 }); },
  };
  return dialog;
}

function createRuntimeStorage(backing = null) {
  // OfficeRuntime.storage: in memory, or over a Storage (the browser tests: it survives a
  // reload as the real one survives a restart of the add-in)
  const items = new Map();
  const prefix = "__fake_runtime:";
  const store = backing
    ? { has: (k) => backing.getItem(prefix + k) !== null, get: (k) => backing.getItem(prefix + k),
      set: (k, v) => backing.setItem(prefix + k, v), delete: (k) => backing.removeItem(prefix + k) }
    : items;
  return {
    storage: {
      async getItem(key) { return store.has(key) ? store.get(key) : null; },
      async setItem(key, value) { store.set(key, String(value)); },
      async removeItem(key) { store.delete(key); },
    },
    __items: items,
  };
}

export { createOffice, createRuntimeStorage };
