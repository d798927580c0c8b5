/**
 * Serve / deploy jobs: a free port for the job (FEDML_SERVING_PORT) and a readiness probe on
 * it for as long as the job runs. The probe is `GET http://127.0.0.1:<port><path>` (path `/`
 * unless serving_args sets readiness_probe_path); any answer below 500 means ready (a model
 * server still loading answers 503).
 */
import { request } from "node:http";
import { createServer } from "node:net";
import { sleep } from "../backoff.js";

/** A port free right now on this machine (the OS picks it; the job binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** One probe: true when something on the port answered with a status below 500. */
export function probeOnce(port: number, timeoutMs = 1_000, path = "/"): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

/** Probes until ready (true) or until `signal` aborts (false). */
export async function waitUntilServing(port: number, signal: AbortSignal, intervalMs = 250, path = "/"): Promise<boolean> {
  while (!signal.aborted) {
    if (await probeOnce(port, 1_000, path)) return true;
    await sleep(intervalMs, signal);
  }
  return false;
}

/** Failed probes in a row that take a ready job out of rotation. */
export const UNHEALTHY_AFTER = 3;

/**
 * Probes until `signal` aborts, calling `onChange` when readiness changes: true at the first
 * answer, false after UNHEALTHY_AFTER failures in a row, true again at the next answer.
 */
export async function watchReadiness(
  port: number,
  signal: AbortSignal,
  onChange: (ready: boolean) => void,
  options: { path?: string; intervalMs?: number; firstIntervalMs?: number } = {},
): Promise<void> {
  const path = options.path ?? "/";
  if (!(await waitUntilServing(port, signal, options.firstIntervalMs ?? 250, path))) return;
  onChange(true);
  let ready = true;
  let failures = 0;
  while (!signal.aborted) {
    await sleep(options.intervalMs ?? 1_000, signal);
    if (signal.aborted) return;
    const ok = await probeOnce(port, 1_000, path);
    failures = ok ? 0 : failures + 1;
    if (ok && !ready) {
      ready = true;
      onChange(true);
    } else if (!ok && ready && failures >= UNHEALTHY_AFTER) {
      ready = false;
      onChange(false);
    }
  }
}
