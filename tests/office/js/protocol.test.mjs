// protocol.js against a small recorded exchange with the Office service: the bearer token,
// JSON both ways, the error body in both languages, retries only where a call is idempotent.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ApiError, Protocol, base64ToBytes, bytesToBase64 } from "../../../addin/office/static/protocol.js";

function replay(script) {
  // a fetch that answers the recorded exchange in order and records what it was sent
  const seen = [];
  const fetcher = async (url, init) => {
    const step = script[seen.length];
    seen.push({ url, method: init.method, headers: init.headers, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    if (!step) throw new Error(`unexpected call ${init.method} ${url}`);
    if (step.network) throw new TypeError("Failed to fetch");
    assert.equal(`${init.method} ${url}`, `${step.method} ${step.url}`);
    const text = step.body === undefined ? "" : JSON.stringify(step.body);
    return {
      ok: step.status >= 200 && step.status < 300, status: step.status,
      headers: { get: (k) => (step.headers ?? {})[k] ?? null },
      async json() { return JSON.parse(text); },
      async text() { return text; },
    };
  };
  return { fetcher, seen };
}

const noSleep = async () => {};
const INFO = { name: "crm.xlsx", active: "客户", sheets: [{ name: "客户", visibility: "visible", rows: 2, cols: 2, freeze: null }], names: [] };

describe("a session, recorded", () => {
  test("open, upload, run, one page, close: the calls and their bodies", async () => {
    const { fetcher, seen } = replay([
      { method: "POST", url: "https://crm.example.com/office/api/sessions", status: 201, body: { session: "s1", upload: ["客户"], max_bytes: 4000000 } },
      { method: "POST", url: "https://crm.example.com/office/api/sessions/s1/cells", status: 204 },
      { method: "POST", url: "https://crm.example.com/office/api/sessions/s1/run", status: 200, body: { result: { command: "pull", ok: true }, pages: 1, files: [] } },
      { method: "GET", url: "https://crm.example.com/office/api/sessions/s1/actions/0", status: 200, body: { page: 0, pages: 1, actions: [{ op: "activate", sheet: "客户" }] } },
      { method: "DELETE", url: "https://crm.example.com/office/api/sessions/s1", status: 204 },
    ]);
    const p = new Protocol({ base: "https://crm.example.com/office/api/", token: "crm_abc", fetch: fetcher, sleep: noSleep });
    const opened = await p.open("pull", "zh", {}, INFO);
    assert.deepEqual(opened.upload, ["客户"]);
    assert.equal(await p.cells("s1", { sheet: "客户", row: 1, col: 1, values: [["a", 1]], formats: {} }), null);
    assert.equal((await p.run("s1")).pages, 1);
    assert.equal((await p.actions("s1", 0)).actions[0].op, "activate");
    await p.close("s1");
    assert.deepEqual(seen[0].body, { command: "pull", lang: "zh", options: {}, workbook: INFO });
    for (const call of seen) assert.equal(call.headers.Authorization, "Bearer crm_abc");
    assert.equal(seen[1].headers["Content-Type"], "application/json");
    assert.deepEqual(p.sent.map((s) => s.status), [201, 204, 200, 200, 204]);
    assert.ok(p.sent[0].bytes > 50 && p.sent[3].received > 20);
  });
});

describe("errors", () => {
  test("the bridge's error body becomes an ApiError with both messages", async () => {
    const { fetcher } = replay([{ method: "POST", url: "api/sessions", status: 401,
      body: { error: { code: "AUTH_INVALID", message_zh: "令牌无效或已过期", message_en: "The token is invalid or expired" } } }]);
    const p = new Protocol({ token: "old", fetch: fetcher, sleep: noSleep });
    const err = await p.open("pull", "en", {}, INFO).catch((e) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, "AUTH_INVALID");
    assert.equal(err.signedOut, true);
    assert.equal(err.text("zh"), "令牌无效或已过期");
    assert.equal(err.text("en"), "The token is invalid or expired");
  });

  test("an answer without the error body still says its status in both languages", async () => {
    const { fetcher } = replay([{ method: "GET", url: "api/config?lang=en", status: 404 }]);
    const err = await new Protocol({ fetch: fetcher, sleep: noSleep, retries: 0 }).config("en").catch((e) => e);
    assert.equal(err.code, "HTTP_404");
    assert.match(err.text("zh"), /404/);
  });

  test("no network at all: a clear message, not a TypeError", async () => {
    const { fetcher, seen } = replay([{ network: true }, { network: true }]);
    const err = await new Protocol({ fetch: fetcher, sleep: noSleep, retries: 1 }).actions("s", 0).catch((e) => e);
    assert.equal(err.code, "NETWORK");
    assert.equal(seen.length, 2);
    assert.match(err.text("zh"), /无法连接/);
  });
});

describe("retries", () => {
  test("an idempotent call is retried after 503 and 429 (honouring Retry-After)", async () => {
    const waits = [];
    const { fetcher, seen } = replay([
      { method: "GET", url: "api/sessions/s/actions/2", status: 503 },
      { method: "GET", url: "api/sessions/s/actions/2", status: 429, headers: { "Retry-After": "3" } },
      { method: "GET", url: "api/sessions/s/actions/2", status: 200, body: { page: 2, pages: 3, actions: [] } },
    ]);
    const retried = [];
    const p = new Protocol({ fetch: fetcher, sleep: async (ms) => { waits.push(ms); }, onRetry: (r) => retried.push(r.status) });
    assert.equal((await p.actions("s", 2)).page, 2);
    assert.equal(seen.length, 3);
    assert.deepEqual(waits, [250, 3000]);
    assert.deepEqual(retried, [503, 429]);
  });

  test("run is never retried: a push must not be sent twice", async () => {
    const { fetcher, seen } = replay([{ method: "POST", url: "api/sessions/s/run", status: 503,
      body: { error: { code: "BRIDGE_UNAVAILABLE", message_zh: "服务器暂时不可用", message_en: "The server is unavailable" } } }]);
    const err = await new Protocol({ fetch: fetcher, sleep: noSleep }).run("s").catch((e) => e);
    assert.equal(err.code, "BRIDGE_UNAVAILABLE");
    assert.equal(seen.length, 1);
  });

  test("sign-in is never retried (failures count against the user)", async () => {
    const { fetcher, seen } = replay([{ method: "POST", url: "api/sign-in", status: 503 }]);
    await new Protocol({ fetch: fetcher, sleep: noSleep }).signIn({ username: "u", password: "p" }).catch(() => {});
    assert.equal(seen.length, 1);
    assert.equal(seen[0].headers.Authorization, undefined);
  });
});

describe("files in parts", () => {
  test("upload: parts under the limit, each base64, numbered from 0", async () => {
    const bytes = new Uint8Array(25).map((_, i) => i * 7);
    const script = [0, 1, 2].map(() => ({ method: "POST", url: "api/sessions/s/files/old%20list.xlsx", status: 204 }));
    const { fetcher, seen } = replay(script);
    const parts = await new Protocol({ fetch: fetcher, sleep: noSleep }).uploadFile("s", "old list.xlsx", bytes, 10);
    assert.equal(parts, 3);
    assert.deepEqual(seen.map((c) => [c.body.part, c.body.parts]), [[0, 3], [1, 3], [2, 3]]);
    const joined = seen.flatMap((c) => [...base64ToBytes(c.body.base64)]);
    assert.deepEqual(joined, [...bytes]);
  });

  test("download: every part fetched and joined into one base64", async () => {
    const whole = new Uint8Array(10).map((_, i) => 0x50 + i);
    const { fetcher } = replay([
      { method: "GET", url: "api/sessions/s/files/upgraded.xlsx?part=0", status: 200, body: { part: 0, parts: 2, base64: bytesToBase64(whole.subarray(0, 4)) } },
      { method: "GET", url: "api/sessions/s/files/upgraded.xlsx?part=1", status: 200, body: { part: 1, parts: 2, base64: bytesToBase64(whole.subarray(4)) } },
    ]);
    const got = await new Protocol({ fetch: fetcher, sleep: noSleep }).downloadFile("s", "upgraded.xlsx");
    assert.equal(got.parts, 2);
    assert.equal(got.base64, bytesToBase64(whole));
  });
});
