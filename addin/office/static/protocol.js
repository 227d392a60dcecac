// The HTTP calls of the Office service (/office/api/...): JSON both ways, the bridge token
// as `Authorization: Bearer`, errors as the bridge's error body, idempotent calls retried.

const RETRY_STATUS = new Set([429, 502, 503, 504]);
const PART_BYTES = 2_900_000; // raw bytes per uploaded file part: its base64 stays under 4 MB

export class ApiError extends Error {
  // an answer that is not a success: the service's code and its two messages
  constructor(status, code, messageZh, messageEn, field = null) {
    super(messageEn || code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.messageZh = messageZh;
    this.messageEn = messageEn;
    this.field = field;
  }

  text(lang) {
    const m = lang === "zh" ? this.messageZh || this.messageEn : this.messageEn || this.messageZh;
    return m || this.code;
  }

  get signedOut() { return this.status === 401; }
}

const NETWORK = {
  zh: "无法连接到 CRM 服务（网络中断或服务器未启动）",
  en: "Cannot reach the CRM service (the network is down or the server is not running)",
};

async function errorOf(response) {
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  const e = body?.error;
  if (e && e.code) return new ApiError(response.status, e.code, e.message_zh, e.message_en, e.field ?? null);
  return new ApiError(response.status, `HTTP_${response.status}`,
    `服务器返回 HTTP ${response.status}`, `The server answered HTTP ${response.status}`);
}

function waitFor(response, attempt) {
  const after = Number(response?.headers?.get?.("Retry-After"));
  if (Number.isFinite(after) && after > 0) return Math.min(after, 10) * 1000;
  return [250, 1000, 2500, 5000][Math.min(attempt, 3)];
}

export function bytesToBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(out);
}

export function base64ToBytes(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class Protocol {
  constructor({ base = "api", token = null, fetch: fetcher = null, retries = 3, sleep = null, onRetry = null } = {}) {
    this.base = base.replace(/\/$/, "");
    this.token = token;
    this.fetch = fetcher ?? ((...args) => globalThis.fetch(...args));
    this.retries = retries;
    this.sleep = sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.onRetry = onRetry;
    this.sent = []; // [{method, path, bytes, status, received}] of this client's calls
  }

  async call(method, path, body = undefined, { retry = true, auth = true } = {}) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = { Accept: "application/json" };
    if (text !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    for (let attempt = 0; ; attempt++) {
      let response = null;
      try {
        response = await this.fetch(`${this.base}${path}`, { method, headers, body: text });
      } catch (err) {
        if (!retry || attempt >= this.retries) throw new ApiError(0, "NETWORK", NETWORK.zh, NETWORK.en);
      }
      if (response && !(retry && RETRY_STATUS.has(response.status) && attempt < this.retries)) {
        return this.answer(method, path, text, response);
      }
      this.onRetry?.({ method, path, attempt: attempt + 1, status: response?.status ?? 0 });
      await this.sleep(waitFor(response, attempt));
    }
  }

  async answer(method, path, text, response) {
    const record = { method, path, bytes: text ? new TextEncoder().encode(text).length : 0, status: response.status, received: 0 };
    this.sent.push(record);
    if (!response.ok) throw await errorOf(response);
    if (response.status === 204) return null;
    const raw = await response.text();
    record.received = new TextEncoder().encode(raw).length;
    return raw ? JSON.parse(raw) : null;
  }

  config(lang) { return this.call("GET", `/config?lang=${encodeURIComponent(lang)}`, undefined, { auth: false }); }

  signIn(body) { return this.call("POST", "/sign-in", body, { retry: false, auth: false }); }

  open(command, lang, options, workbook) {
    return this.call("POST", "/sessions", { command, lang, options, workbook });
  }

  cells(id, block) { return this.call("POST", `/sessions/${id}/cells`, block); }

  notes(id, group) { return this.call("POST", `/sessions/${id}/notes`, group); }

  run(id) { return this.call("POST", `/sessions/${id}/run`, {}, { retry: false }); }

  actions(id, page) { return this.call("GET", `/sessions/${id}/actions/${page}`); }

  close(id) { return this.call("DELETE", `/sessions/${id}`); }

  async uploadFile(id, name, bytes, partBytes = PART_BYTES) {
    const parts = Math.max(1, Math.ceil(bytes.length / partBytes));
    for (let part = 0; part < parts; part++) {
      const chunk = bytes.subarray(part * partBytes, (part + 1) * partBytes);
      await this.call("POST", `/sessions/${id}/files/${encodeURIComponent(name)}`, { part, parts, base64: bytesToBase64(chunk) });
    }
    return parts;
  }

  async downloadFile(id, name) {
    // every part of a produced file, joined -> its base64 (what createWorkbook takes)
    const path = `/sessions/${id}/files/${encodeURIComponent(name)}`;
    const first = await this.call("GET", `${path}?part=0`);
    const chunks = [base64ToBytes(first.base64)];
    for (let part = 1; part < first.parts; part++) {
      chunks.push(base64ToBytes((await this.call("GET", `${path}?part=${part}`)).base64));
    }
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    return { base64: bytesToBase64(all), bytes: all, parts: first.parts };
  }
}
