// Drawing the task pane: buttons, progress, a command's result (summary lines, per-row
// messages that select their cell when clicked, conflicts with a choice each). Plain DOM,
// text only (never innerHTML with data), in the words of the workbook's language.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function drawButtons(groups, press) {
  const nav = $("buttons");
  nav.replaceChildren(...groups.map((g) => el("div", { class: "group", role: "group", "aria-label": g.label },
    el("h2", {}, g.label),
    ...g.buttons.map((b) => el("button", { type: "button", id: `btn-${b.id}`, title: b.tip ?? "", "data-id": b.id, onclick: () => press(b.id) }, b.label)))));
}

export function setBusy(busy) {
  for (const b of document.querySelectorAll("#buttons button")) b.disabled = busy;
}

export function drawAccount(w, signIn, onSign) {
  $("who").textContent = signIn ? `${w.signed_in_as}${signIn.user?.username ?? ""}` : w.not_signed_in;
  const sign = $("sign");
  sign.textContent = signIn ? w.sign_out : w.sign_in;
  sign.onclick = onSign;
}

export function drawProgress(w, p) {
  if (!p) { $("progress").hidden = true; return; }
  $("progress").hidden = false;
  $("bar").value = Math.max(0, Math.min(1, p.fraction ?? 0));
  $("stage").textContent = [w[p.stage] ?? p.stage, p.detail].filter(Boolean).join(" · ");
}

export function drawError(text, extra = null) {
  const box = $("error");
  box.replaceChildren(...(text ? [el("p", {}, text), extra] : []));
  box.hidden = !text;
}

function levelWord(w, level) {
  return w[`level_${level}`] ?? level;
}

function perRow(r) {
  // the messages worth a table: those about a sheet, and warnings or errors not already a line
  return (r.messages ?? []).filter((m) => m.sheet || (m.level !== "info" && !(r.lines ?? []).includes(m.text)));
}

function messagesTable(w, messages, goTo, headers) {
  return el("table", { class: "messages" },
    el("thead", {}, el("tr", {}, el("th", {}, w.sheet), el("th", {}, w.row), el("th", {}, w.field), el("th", {}, w.message))),
    el("tbody", {}, messages.map((m) => el("tr", {
      class: `level-${m.level}${m.sheet && m.row ? " link" : ""}`,
      title: m.sheet && m.row ? w.go_to_cell : null,
      onclick: m.sheet && m.row ? () => goTo(m) : null,
    }, el("td", {}, m.sheet ?? ""), el("td", {}, m.row ?? ""), el("td", {}, headers?.[m.sheet]?.[m.field] ?? m.field ?? ""),
    el("td", {}, el("span", { class: "level" }, levelWord(w, m.level)), " ", m.text ?? "", m.code ? el("code", {}, ` [${m.code}]`) : null)))));
}

function conflictList(w, conflicts, choose) {
  return el("ol", { class: "conflicts" }, conflicts.map((c, i) => el("li", {},
    el("div", { class: "where" }, `${c.sheet} · ${w.row} ${c.row} · ${c.label ?? c.field}`),
    el("div", {}, `${w.mine}: `, el("b", {}, String(c.mine ?? "")), ` · ${w.theirs}: `, el("b", {}, String(c.theirs ?? ""))),
    c.choice && c.choices?.length ? el("select", {
      id: `choice-${i}`, "aria-label": w.choose,
      onchange: (e) => e.target.value !== "" && choose(c, e.target.value, e.target),
    }, el("option", { value: "" }, w.choose), c.choices.map((o) => el("option", { value: o.value }, o.label ?? o.value))) : null)));
}

export function drawResult(w, label, outcome, handlers) {
  const box = $("result");
  if (!outcome) { box.hidden = true; box.replaceChildren(); return; }
  const r = outcome.result ?? {};
  const rows = perRow(r);
  box.replaceChildren(...[
    el("h2", { class: r.ok === false ? "bad" : "good" }, `${label} · ${r.ok === false ? w.failed : w.done}`),
    r.lines?.length ? el("ul", { class: "lines" }, r.lines.map((line) => el("li", {}, line))) : null,
    (outcome.notes ?? []).map((text) => el("p", { class: "warning" }, text)),
    (outcome.files ?? []).map((f) => fileLine(w, f, handlers.download)),
    r.conflicts?.length ? [el("h3", {}, `${w.conflicts} (${r.conflicts.length})`), conflictList(w, r.conflicts, handlers.choose)] : null,
    rows.length ? [el("h3", {}, `${w.messages} (${rows.length})`), messagesTable(w, rows, handlers.goTo, outcome.headers)] : null,
  ].flat(2).filter(Boolean));
  box.hidden = false;
}

function fileLine(w, f, download) {
  if (f.shown) return el("p", { class: "file" }, `${w.opened_file}${f.name}`);
  return el("p", { class: "file" }, el("a", { href: "#", onclick: (e) => { e.preventDefault(); download(f); } }, `${w.download_file}: ${f.name}`));
}

export function saveBytes(name, bytes) {
  // a produced file offered as a download where Excel cannot open it itself
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function pickFile(w) {
  // -> {name, bytes} of the file the user chose, null when they cancelled
  return new Promise((resolve) => {
    const input = $("picker-file");
    $("picker-text").textContent = w.pick_file;
    $("picker-cancel").textContent = w.pick_cancel;
    $("picker").hidden = false;
    input.value = "";
    const done = (got) => { $("picker").hidden = true; input.onchange = null; $("picker-cancel").onclick = null; resolve(got); };
    input.onchange = async () => {
      const f = input.files?.[0];
      done(f ? { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) } : null);
    };
    $("picker-cancel").onclick = () => done(null);
  });
}
