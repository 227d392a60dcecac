// The bridge token of the signed-in user: kept in the add-in's own storage
// (OfficeRuntime.storage in the shared runtime, else the page's localStorage), never in
// the workbook; got from the sign-in dialog (signin.html) through messageParent.

const KEY = "crm.office.signin";

function store() {
  const runtime = globalThis.OfficeRuntime?.storage;
  if (runtime) return runtime;
  return {
    async getItem(k) { return globalThis.localStorage.getItem(k); },
    async setItem(k, v) { globalThis.localStorage.setItem(k, v); },
    async removeItem(k) { globalThis.localStorage.removeItem(k); },
  };
}

export async function loadSignIn() {
  // {token, user: {username, ...}} or null
  const raw = await store().getItem(KEY);
  if (!raw) return null;
  try {
    const got = JSON.parse(raw);
    return typeof got?.token === "string" && got.token ? got : null;
  } catch {
    return null;
  }
}

export async function saveSignIn(signIn) {
  await store().setItem(KEY, JSON.stringify({ token: signIn.token, user: signIn.user ?? null }));
}

export async function clearSignIn() {
  await store().removeItem(KEY);
}

export function dialogUrl(lang, base = globalThis.location?.href ?? "") {
  // signin.html beside the task pane page, absolute (the dialog API wants a full URL)
  return new URL(`signin.html?lang=${encodeURIComponent(lang)}`, base).href;
}

export function openSignInDialog(lang) {
  // -> {token, user} when the user signed in, null when they closed the dialog
  return new Promise((resolve, reject) => {
    Office.context.ui.displayDialogAsync(dialogUrl(lang), { height: 60, width: 30, displayInIframe: true }, (res) => {
      if (res.status !== Office.AsyncResultStatus.Succeeded) {
        reject(new Error(res.error?.message ?? "the sign-in dialog did not open"));
        return;
      }
      const dialog = res.value;
      dialog.addEventHandler(Office.EventType.DialogMessageReceived, (arg) => {
        const here = globalThis.location?.origin;
        if (arg.origin && here && arg.origin !== here) return; // only our own dialog page
        dialog.close();
        try {
          const got = JSON.parse(arg.message);
          resolve(got?.token ? got : null);
        } catch {
          resolve(null);
        }
      });
      dialog.addEventHandler(Office.EventType.DialogEventReceived, () => resolve(null));
    });
  });
}
