/** What the local server publishes about itself under `<home>/server/`. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Paths } from "@fedml/core";

export interface ServerInfo {
  url: string;
  port: number;
  pid: number | null;
  startedAt: string | number | null;
}

export function serverDir(home: string): string {
  return join(home, "server");
}

export function serverLogPath(home: string): string {
  return join(serverDir(home), "server.log");
}

export function readServerInfo(home: string): ServerInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(join(serverDir(home), "server.json"), "utf8")) as Partial<ServerInfo>;
    if (typeof parsed.url !== "string") return null;
    return {
      url: parsed.url.replace(/\/+$/, ""),
      port: Number(parsed.port),
      pid: typeof parsed.pid === "number" ? parsed.pid : null,
      startedAt: parsed.startedAt ?? null,
    };
  } catch {
    return null;
  }
}

export function readAdminKey(home: string): string | null {
  try {
    const key = readFileSync(join(serverDir(home), "admin-key"), "utf8").trim();
    return key === "" ? null : key;
  } catch {
    return null;
  }
}

export async function isHealthy(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(`${url}${Paths.health}`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
