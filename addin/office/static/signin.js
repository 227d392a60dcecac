// The sign-in dialog (Office.context.ui.displayDialogAsync opens this page): a user name
// and password exchanged at /office/api/sign-in, or a pasted token checked there; the
// token goes back to the task pane with messageParent and is never shown as typed.
import { Protocol } from "./protocol.js";
import { langOf, wordsFor } from "./words.js";

const lang = langOf(new URLSearchParams(globalThis.location.search).get("lang"));
const w = wordsFor(lang);
const $ = (id) => document.getElementById(id);

function label() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = w.dialog_title;
  $("title").textContent = w.dialog_title;
  $("l-username").textContent = w.username;
  $("l-password").textContent = w.password;
  $("or-token").textContent = w.or_token;
  $("l-token").textContent = w.token;
  $("submit").textContent = w.submit;
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

async function submit(event) {
  event.preventDefault();
  const token = $("token").value.trim();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!token && !(username && password)) return showError(w.need_credentials);
  showError("");
  $("submit").disabled = true;
  $("submit").textContent = w.signing_in;
  try {
    const got = await new Protocol({ base: "api" }).signIn(token ? { token } : { username, password });
    $("password").value = "";
    $("token").value = "";
    Office.context.ui.messageParent(JSON.stringify({ token: got.token, user: got.user ?? null }));
  } catch (err) {
    showError(err.text ? `${err.text(lang)} [${err.code}]` : String(err.message ?? err));
  } finally {
    $("submit").disabled = false;
    $("submit").textContent = w.submit;
  }
}

label();
Office.onReady(() => {
  $("form").addEventListener("submit", submit);
});
