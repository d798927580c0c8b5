import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DeviceFacts, RegisterResponse } from "@fedml/core";
import { type RunningServer, buildServer } from "../../src/app.js";
import type { ServerOptions } from "../../src/config.js";
import { databaseUrlFor, dropDatabaseFor, servingStore } from "./database.js";
import { tempDir } from "./tmp.js";

export interface TestServer {
  server: RunningServer;
  url: string;
  adminKey: string;
  home: string;
  /** fetch against the API with a bearer key; answers status and parsed JSON (or text). */
  // biome-ignore lint/suspicious/noExplicitAny: tests check the JSON bodies field by field.
  call<T = any>(key: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  createUser(name: string): Promise<string>;
  registerDevice(userKey: string, facts: DeviceFacts): Promise<RegisterResponse>;
  stop(): Promise<void>;
}

export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const tmp = tempDir("api");
  const databaseUrl = await databaseUrlFor(tmp.dir);
  const built = await buildServer({ home: tmp.dir, port: 0, logLevel: "silent", tickMs: 100, databaseUrl, ...options });
  const released = servingStore(tmp.dir, built.store);
  const server: RunningServer = {
    ...built,
    close: async () => {
      released();
      await built.close();
    },
  };
  const adminKey = readFileSync(join(tmp.dir, "server", "admin-key"), "utf8").trim();
  const call = async (key: string | null, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${server.url}${path}`, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    return { status: res.status, body: parsed as any };
  };
  const t: TestServer = {
    server,
    url: server.url,
    adminKey,
    home: tmp.dir,
    call,
    async createUser(name) {
      const r = await call(adminKey, "POST", "/api/v1/users", { name });
      if (r.status !== 200) throw new Error(`create user ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.apiKey as string;
    },
    async registerDevice(userKey, facts) {
      const r = await call(userKey, "POST", "/api/v1/agent/register", { facts });
      if (r.status !== 200) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as RegisterResponse;
    },
    async stop() {
      await server.close();
      await dropDatabaseFor(tmp.dir);
      tmp.cleanup();
    },
  };
  return t;
}

export const deviceFacts = (name: string, over: Partial<DeviceFacts> = {}): DeviceFacts => ({
  name,
  hostname: name,
  osType: "Linux",
  osVersion: "6.1",
  cpuCount: 4,
  memoryBytes: 8 * 2 ** 30,
  gpus: [],
  agentVersion: "0.1.0",
  address: "10.0.0.1",
  provider: "self",
  region: "local",
  pricePerGpuHour: 0,
  shared: false,
  simulated: true,
  maxJobs: 1,
  ...over,
});

export const simpleJob = (extra = "") => `job: echo hello\n${extra}`;
