// The proxy machinery of the fake Office.js: a request context that queues every write and
// load until sync(), strict objects (an unknown member throws, a property read before it
// was loaded and synced throws PropertyNotLoaded), payload sizes counted per sync.
import { FakeOfficeError } from "./fake_model.mjs";

const PAYLOAD_LIMIT = 5 * 1024 * 1024; // Excel on the web: requests and responses

const ENCODER = new TextEncoder();
function byteSize(value) {
  if (value === undefined) return 0;
  return ENCODER.encode(JSON.stringify(value)).length;
}

function strict(obj, kind) {
  // reads and writes of members the class does not declare throw, as a typo should
  return new Proxy(obj, {
    get(target, key, receiver) {
      if (typeof key === "symbol" || key in target || key.startsWith("_")) {
        return Reflect.get(target, key, receiver);
      }
      if (key === "then" || key === "toJSON" || key === "inspect") return undefined;
      throw new FakeOfficeError("UnknownMember", `${kind}.${String(key)} does not exist`);
    },
    set(target, key, value, receiver) {
      if (typeof key === "string" && key.startsWith("_")) {
        target[key] = value;
        return true;
      }
      if (hasSetter(target, key)) return Reflect.set(target, key, value, receiver);
      throw new FakeOfficeError("UnknownMember", `${kind}.${String(key)} cannot be set`);
    },
  });
}

function hasSetter(obj, key) {
  for (let p = Object.getPrototypeOf(obj); p; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d) return typeof d.set === "function";
  }
  return false;
}

function propList(spec, defaults) {
  if (spec === undefined || spec === null) return defaults;
  if (typeof spec === "string") return spec.split(",").map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(spec)) return spec;
  if (typeof spec === "object" && spec.select) return propList(spec.select, defaults);
  throw new FakeOfficeError("InvalidArgument", `bad load argument ${JSON.stringify(spec)}`);
}

class FakeContext {
  constructor(fake) {
    this._fake = fake;
    this._queue = [];
    this._closed = false;
  }

  _push(bytes, run) {
    if (this._closed) throw new FakeOfficeError("InvalidObjectPath", "the request context has ended");
    this._queue.push({ bytes, run });
  }

  async sync() {
    const queue = this._queue;
    this._queue = [];
    const stats = this._fake.stats;
    const request = queue.reduce((n, op) => n + op.bytes + 16, 2);
    stats.syncs += 1;
    stats.requests.push(request);
    stats.operations += queue.length;
    if (request > PAYLOAD_LIMIT) {
      throw new FakeOfficeError("RequestPayloadSizeLimitExceeded", `request of ${request} bytes`);
    }
    let response = 2;
    const commits = [];
    for (const op of queue) {
      const out = op.run();
      if (out) {
        response += out.bytes;
        commits.push(out.commit);
      }
    }
    stats.responses.push(response);
    if (response > PAYLOAD_LIMIT) {
      throw new FakeOfficeError("ResponsePayloadSizeLimitExceeded", `response of ${response} bytes`);
    }
    commits.forEach((commit) => commit());
    await Promise.resolve();
  }
}

class ClientResult {
  constructor() { this._done = false; this._value = undefined; }
  get value() {
    if (!this._done) throw new FakeOfficeError("PropertyNotLoaded", "ClientResult.value read before sync");
    return this._value;
  }
}

class ClientObject {
  // resolve() runs at sync time and returns the model object (null: a null object)
  constructor(ctx, resolve, kind) {
    this._ctx = ctx;
    this._resolve = resolve;
    this._kind = kind;
    this._loaded = {};
    this._bound = undefined;
    return strict(this, kind);
  }

  get context() { return this._ctx; }

  _target() {
    if (this._bound === undefined) this._bound = this._resolve();
    if (this._bound && this._bound.deleted) {
      throw new FakeOfficeError("ItemNotFound", `${this._kind} was deleted`);
    }
    return this._bound;
  }

  _need() {
    const t = this._target();
    if (t === null) throw new FakeOfficeError("InvalidOperation", `${this._kind} is a null object`);
    return t;
  }

  _props() { return []; } // what load() with no argument loads

  _read(t, prop) {
    throw new FakeOfficeError("PropertyNotFound", `${this._kind}.${prop} cannot be loaded`);
  }

  _write(t, prop) {
    throw new FakeOfficeError("InvalidArgument", `${this._kind}.${prop} is read-only`);
  }

  load(spec) {
    const props = propList(spec, this._props());
    for (const p of props) {
      if (p.includes("/")) throw new FakeOfficeError("InvalidArgument", `${this._kind}: load ${p} on the child object instead`);
      if (!this._props().includes(p) && p !== "isNullObject") {
        throw new FakeOfficeError("PropertyNotFound", `${this._kind}.${p} cannot be loaded`);
      }
    }
    this._ctx._push(64, () => {
      const t = this._target();
      const snap = { isNullObject: t === null };
      for (const p of props) if (p !== "isNullObject") snap[p] = t === null ? null : this._read(t, p);
      return { bytes: byteSize(snap), commit: () => Object.assign(this._loaded, snap) };
    });
    return this;
  }

  _get(prop) {
    if (!(prop in this._loaded)) {
      throw new FakeOfficeError("PropertyNotLoaded", `${this._kind}.${prop} was not loaded and synced`);
    }
    return this._loaded[prop];
  }

  _set(prop, value) {
    this._ctx._push(byteSize(value) + prop.length, () => { this._write(this._need(), prop, value); });
  }

  _call(name, args, fn) {
    this._ctx._push(byteSize(args) + name.length, () => { fn(this._need()); });
  }

  _result(name, args, fn) {
    const result = new ClientResult();
    this._ctx._push(byteSize(args) + name.length, () => {
      const value = fn(this._need());
      return { bytes: byteSize(value), commit: () => { result._done = true; result._value = value; } };
    });
    return result;
  }

  get isNullObject() { return this._get("isNullObject"); }
}

class ClientCollection extends ClientObject {
  // items(t) -> [[resolvedModel, proxyFactory]]; loads "name" or "items/name"
  constructor(ctx, resolve, kind) {
    super(ctx, resolve, kind);
    this._items = undefined;
  }

  get items() {
    if (this._items === undefined) {
      throw new FakeOfficeError("PropertyNotLoaded", `${this._kind}.items was not loaded and synced`);
    }
    return this._items;
  }

  load(spec) {
    const props = propList(spec, null)?.map((p) => p.replace(/^items\//, "")) ?? null;
    this._ctx._push(64, () => {
      const made = this._list(this._need());
      const snaps = made.map((item) => {
        const names = props ?? item._props();
        const snap = {};
        for (const p of names) snap[p] = item._read(item._target(), p);
        return snap;
      });
      return {
        bytes: byteSize(snaps),
        commit: () => {
          made.forEach((item, i) => Object.assign(item._loaded, snaps[i]));
          this._items = made;
        },
      };
    });
    return this;
  }

  getCount() { return this._result("getCount", [], (t) => this._list(t).length); }
}

export { PAYLOAD_LIMIT, byteSize, strict, propList, FakeContext, ClientResult, ClientObject, ClientCollection };
