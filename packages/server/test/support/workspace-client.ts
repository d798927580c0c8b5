// A client of the workspace API and an agent's download, for the workspace store's tests.
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import type { TestServer } from "./server.js";

export const MiB = 1024 * 1024;
export const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
export const wsYaml = "workspace: ./src\njob: echo hi\n";

export function client(t: TestServer) {
  const headers = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });
  return {
    head: async (key: string, s: string) =>
      (await fetch(`${t.url}/api/v1/workspaces/${s}`, { method: "HEAD", headers: headers(key) })).status,
    put: async (key: string, s: string, body: Buffer) => {
      const r = await fetch(`${t.url}/api/v1/workspaces/${s}`, {
        method: "PUT",
        headers: headers(key, { "content-type": "application/gzip" }),
        body,
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
    patch: async (key: string, s: string, offset: number, size: number, body: Buffer) => {
      const r = await fetch(`${t.url}/api/v1/workspaces/${s}/upload`, {
        method: "PATCH",
        headers: headers(key, {
          "content-type": "application/octet-stream",
          "upload-offset": String(offset),
          "upload-length": String(size),
        }),
        body,
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
    state: async (key: string, s: string) => (await t.call(key, "GET", `/api/v1/workspaces/${s}/upload`)).body,
    launch: async (key: string, s: string) =>
      (await t.call(key, "POST", "/api/v1/runs", { yamlText: wsYaml, workspaceSha256: s, workspaceName: "src" })).body,
  };
}

/** What an agent gets for a workspace: the status, the bytes that arrived, and whether the body ended cleanly. */
export async function agentDownload(t: TestServer, token: string, s: string) {
  const r = await fetch(`${t.url}/api/v1/agent/workspaces/${s}`, { headers: { authorization: `Bearer ${token}` } });
  const parts: Buffer[] = [];
  let complete = true;
  try {
    for await (const piece of r.body ?? []) parts.push(Buffer.from(piece as Uint8Array));
  } catch {
    complete = false;
  }
  const bytes = Buffer.concat(parts);
  return { status: r.status, bytes, complete: complete && bytes.length === Number(r.headers.get("content-length")) };
}

/** Stands in for a client whose connection drops: sends the first `cutAt` bytes, then cuts it. */
export function cutUpload(t: TestServer, key: string, s: string, blob: Buffer, cutAt: number): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(`${t.url}/api/v1/workspaces/${s}/upload`);
    const req = httpRequest(url, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/octet-stream",
        "content-length": String(blob.length),
        "upload-offset": "0",
        "upload-length": String(blob.length),
      },
    });
    req.on("error", () => resolve());
    req.on("close", () => resolve());
    req.write(blob.subarray(0, cutAt), () => setTimeout(() => req.destroy(), 200));
  });
}
