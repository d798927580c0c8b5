/**
 * Reads the OpenAPI document from the real server and drives every route in it with malformed
 * values: wrong types, huge and non-finite numbers, NUL, long strings, missing fields, bad
 * JSON, wrong content types, odd ids. Every answer must be below 500 and every error body must
 * carry a result code and a message. Seeded and bounded, so a failure replays exactly.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type TestServer, deviceFacts, startTestServer } from "./support/server.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const CASES_PER_ROUTE = Number(process.env.FUZZ_CASES ?? 30);

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema from the OpenAPI document.
type Schema = any;
type Json = unknown;

/** Raw JSON tokens no JS value serialises to; spliced into the body text. */
const RAW_TOKENS = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890"];
const RAW = (i: number) => `"@@raw${i}@@"`;

const oddStrings = (n: () => number) => [
  "",
  "a\u0000b",
  "\u0000",
  "x".repeat(100_000),
  "1e400",
  "-1",
  "99999999999999999999",
  "2147483648",
  "9223372036854775808",
  "0x10",
  "NaN",
  "Infinity",
  "../../etc/passwd",
  "%00",
  "\uD800",
  "名前",
  `r${Math.floor(n() * 1000)}`,
];
const oddNumbers = [-1, 0, 0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 63, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2];
const oddValues = (n: () => number): Json[] => [
  null,
  true,
  [],
  {},
  [1, "a"],
  { a: { b: [null] } },
  ...oddNumbers,
  ...oddStrings(n),
];

/** encodeURIComponent, but a lone surrogate goes as the bytes a careless client would send. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80";
  }
}

function pick<T>(n: () => number, items: readonly T[]): T {
  return items[Math.floor(n() * items.length)];
}

/** A value the schema accepts, as far as a simple reading of it goes. */
function sample(schema: Schema, n: () => number, depth = 0): Json {
  if (!schema || depth > 8) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return pick(n, schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return sample(variants.find((v: Schema) => v.type !== "null") ?? variants[0], n, depth + 1);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s: Schema) => sample(s, n, depth + 1)));
  switch (schema.type) {
    case "object": {
      const out: Record<string, Json> = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if ((schema.required ?? []).includes(key) || n() < 0.5) out[key] = sample(sub, n, depth + 1);
      }
      return out;
    }
    case "array":
      return [sample(schema.items, n, depth + 1)];
    case "integer":
    case "number":
      return Math.max(schema.minimum ?? 1, schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
    case "boolean":
      return true;
    case "string":
      if (typeof schema.pattern === "string" && schema.pattern.includes("{64}")) return "ab".repeat(32);
      if (typeof schema.pattern === "string") return "fuzz-1";
      return "fuzz";
    default:
      return null;
  }
}

/** Paths to every value inside a JSON value (objects by key, arrays by index). */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...pathsOf(v, [...prefix, i]));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  }
  return out;
}

function setAt(root: Json, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

interface Case {
  path: string;
  query: string;
  body?: string;
  contentType?: string;
}

/** One malformed request for an operation. */
function malformed(route: string, op: Schema, valid: Record<string, string>, n: () => number): Case {
  const params: Schema[] = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === "path");
  const queryParams = params.filter((p) => p.in === "query");
  let path = route;
  for (const p of pathParams) {
    const roll = n();
    const value =
      roll < 0.4 ? (valid[p.name] ?? "1") : roll < 0.9 ? encode(String(pick(n, oddStrings(n)))) : pick(n, ["%zz", "%", "%00%00"]);
    path = path.replace(`{${p.name}}`, value);
  }
  const query = new URLSearchParams();
  for (const p of queryParams) {
    if (n() < 0.6) query.set(p.name, String(pick(n, [...oddStrings(n), ...oddNumbers.map(String), "true", "false", "1"])));
  }
  if (n() < 0.1) query.set("unknown", "1e400");
  const c: Case = { path, query: query.toString() };
  const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
  if (bodySchema) {
    const roll = n();
    if (roll < 0.08) {
      c.body = pick(n, ['{"a":', "{bad json}", "[", '{"yamlText": "x",}', "\u0000"]);
      c.contentType = "application/json";
    } else if (roll < 0.14) {
      c.body = pick(n, ["", "null", "[]", "1", '"text"']);
      c.contentType = "application/json";
    } else if (roll < 0.2) {
      c.body = "name=x";
      c.contentType = pick(n, ["text/plain", "application/x-www-form-urlencoded", "application/octet-stream", "application/xml"]);
    } else {
      let body = sample(bodySchema, n);
      const mutations = 1 + Math.floor(n() * 3);
      let raw: string | undefined;
      for (let i = 0; i < mutations; i++) {
        const target = pick(n, pathsOf(body));
        const kind = n();
        if (kind < 0.2 && target.length > 0) body = setAt(body, target, undefined);
        else if (kind < 0.35) {
          raw = pick(n, RAW_TOKENS);
          body = setAt(body, target, RAW(0));
        } else if (kind < 0.45 && body && typeof body === "object" && !Array.isArray(body)) {
          body = { ...(body as object), extra: pick(n, oddValues(n)) };
        } else body = setAt(body, target, pick(n, oddValues(n)));
      }
      c.body = JSON.stringify(body);
      if (raw) c.body = c.body.replace(RAW(0), raw);
      c.contentType = "application/json";
    }
  } else if (n() < 0.15) {
    c.body = pick(n, ['{"a":1}', "{bad", "x".repeat(1000)]);
    c.contentType = pick(n, ["application/json", "text/plain"]);
  }
  return c;
}

describe("fuzz: every route of the OpenAPI document, malformed input", () => {
  let t: TestServer;
  const keys: Record<string, string> = {};
  const valid: Record<string, string> = {};

  before(async () => {
    t = await startTestServer({ pollMaxWaitMs: 20 });
    keys.user = await t.createUser("fuzzer");
    const device = await t.registerDevice(keys.user, deviceFacts("fuzz-box", { pricePerGpuHour: 0 }));
    keys.device = device.deviceToken;
    const launched = await t.call(keys.user, "POST", "/api/v1/runs", {
      yamlText: "job: echo hi\ncomputing: {device_type: CPU}\n",
      workspaceSha256: null,
    });
    valid.id = launched.body.runId ?? "1";
    valid.name = "fuzzer";
    valid.sha256 = "ab".repeat(32);
  });
  after(() => t?.stop());

  test("inputs that once answered 500 get the same 4xx on both databases", async () => {
    assert.match(valid.id, /^\d+$/, "the setup launch was placed");
    const expect = async (method: string, path: string, body: unknown, status: number, code: number, error?: RegExp) => {
      const r = await t.call(path.includes("/agent/") ? keys.device : keys.user, method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.resultCode, code, `${method} ${path}: ${JSON.stringify(r.body)}`);
      if (error) assert.match(r.body.error, error);
    };
    const run = `/api/v1/runs/${valid.id}`;
    await expect("GET", `${run}/log-lines?afterSeq=1e400`, undefined, 400, 3, /afterSeq/);
    await expect("GET", `${run}/log-lines?limit=1e400`, undefined, 400, 3, /limit/);
    await expect("GET", `${run}/log-lines?afterSeq=2147483648`, undefined, 400, 3, /afterSeq/);
    await expect("GET", `${run}/logs?pageSize=1e400`, undefined, 400, 3, /pageSize/);
    await expect("GET", `${run}/logs?pageNum=99999999999999999999`, undefined, 400, 3, /pageNum/);
    await expect("GET", "/api/v1/runs/99999999999999999999", undefined, 404, 25);
    await expect("GET", "/api/v1/runs/2147483648", undefined, 404, 25);
    assert.deepEqual((await t.call(keys.user, "GET", "/api/v1/runs?runId=9223372036854775808")).body, { runList: [] });
    await expect("DELETE", "/api/v1/devices/9223372036854775808", undefined, 404, 3);
    await expect("POST", "/api/v1/runs", { yamlText: "job: echo \u0000", workspaceSha256: null }, 400, 3, /NUL/);
    await expect("GET", "/api/v1/runs?runName=a%00b", undefined, 400, 3, /NUL/);
    await expect("GET", "/api/v1/clusters/a%00b", undefined, 400, 3, /NUL/);
    await expect("PUT", "/api/v1/clusters/c1/autostop", { idleMinutes: 1e300 }, 400, 3);
    await expect("POST", `/api/v1/agent/runs/${valid.id}/status`, { status: "RUNNING", exitCode: 2 ** 31 }, 400, 3, /exitCode/);
    const hello = { facts: deviceFacts("fuzz-box", { maxJobs: 2 ** 31 }), activeRunIds: [] };
    await expect("POST", "/api/v1/agent/hello", hello, 400, 3, /maxJobs/);
    const time = Date.now();
    await expect(
      "POST",
      `/api/v1/agent/runs/${valid.id}/logs`,
      { lines: [{ seq: 1, text: "x", stream: "stdout", time: 1e300 }] },
      400,
      3,
      /time/,
    );
    // 1e400 is Infinity once parsed: no column holds it.
    const infinite = await fetch(`${t.url}/api/v1/users/fuzzer/credit`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: '{"amount": 1e400}',
    });
    assert.equal(infinite.status, 400);
    assert.equal(((await infinite.json()) as { resultCode: number }).resultCode, 3);

    // Job output may hold any byte: NUL is stored as U+FFFD on both databases, not refused.
    const logs = await t.call(keys.device, "POST", `/api/v1/agent/runs/${valid.id}/logs`, {
      lines: [{ seq: 1, text: "before\u0000after", stream: "stdout", time }],
    });
    assert.equal(logs.status, 200, JSON.stringify(logs.body));
    const read = await t.call(keys.user, "GET", `${run}/log-lines`);
    assert.deepEqual(
      read.body.lines.map((l: { seq: number; text: string }) => [l.seq, l.text]),
      [[1, "before\uFFFDafter"]],
    );

    // Aliases under job_args are expanded, not a 500.
    const aliases = await t.call(keys.user, "POST", "/api/v1/runs", {
      yamlText: "job: echo hi\ncomputing: {device_type: CPU}\nbase: &b {lr: 0.1}\njob_args: {a: *b, b: [*b, *b]}\n",
      workspaceSha256: null,
    });
    assert.equal(aliases.status, 200, JSON.stringify(aliases.body));
    assert.ok([0, 5].includes(aliases.body.resultCode), JSON.stringify(aliases.body));
  });

  test("no 5xx, and a result code and message in every error body", async () => {
    const doc = (await t.call(null, "GET", "/api/v1/openapi.json")).body;
    const n = prng(SEED);
    const failures: string[] = [];
    const operations: [string, string, Schema][] = [];
    for (const [route, ops] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
      for (const [method, op] of Object.entries(ops)) operations.push([route, method.toUpperCase(), op]);
    }
    // Unbinding the device would turn every later agent request into a plain 401.
    operations.sort((a, b) => Number(a[0].endsWith("/unregister")) - Number(b[0].endsWith("/unregister")));
    assert.ok(operations.length >= 30, `only ${operations.length} operations in the document`);
    let requests = 0;
    for (const [route, method, op] of operations) {
      const agent = route.includes("/agent/") && !route.endsWith("/register");
      for (let i = 0; i < CASES_PER_ROUTE; i++) {
        const c = malformed(route, op, valid, n);
        const headers: Record<string, string> = {};
        const auth = n();
        if (auth < 0.9) headers.authorization = `Bearer ${agent ? keys.device : auth < 0.5 ? t.adminKey : keys.user}`;
        else if (auth < 0.95)
          headers.authorization = pick(n, ["Bearer ", "Basic abc", "Bearer fedml_\u00ff"]).replace("\u00ff", "x");
        if (c.contentType) headers["content-type"] = c.contentType;
        const url = `${t.url}${c.path}${c.query ? `?${c.query}` : ""}`;
        const what = `${method} ${c.path}${c.query ? `?${c.query.slice(0, 200)}` : ""} ${c.body ? c.body.slice(0, 200) : ""}`;
        requests++;
        let res: Response;
        try {
          res = await fetch(url, {
            method,
            headers,
            body: method === "GET" || method === "HEAD" ? undefined : c.body,
            signal: AbortSignal.timeout(10_000),
          });
        } catch (err) {
          failures.push(`${what}: no answer (${(err as Error).message})`);
          continue;
        }
        const text = await res.text();
        if (res.status >= 500) failures.push(`${what}: ${res.status} ${text.slice(0, 300)}`);
        if (res.status >= 400) {
          let body: { resultCode?: unknown; error?: unknown } | undefined;
          try {
            body = JSON.parse(text);
          } catch {}
          if (typeof body?.resultCode !== "number" || typeof body.error !== "string" || body.error === "") {
            failures.push(`${what}: ${res.status} without a result code: ${text.slice(0, 300)}`);
          }
        }
      }
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${requests} requests failed (seed ${SEED})`);
  });
});
