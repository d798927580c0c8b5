/**
 * Serve / deploy jobs: a free port for the job (FEDML_SERVING_PORT) and a readiness probe on
 * it. The probe is `GET http://127.0.0.1:<port>/`; any answer below 500 means ready (a model
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
export function probeOnce(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

/** Probes until ready (true) or until `signal` aborts (false). */
export async function waitUntilServing(port: number, signal: AbortSignal, intervalMs = 250): Promise<boolean> {
  while (!signal.aborted) {
    if (await probeOnce(port)) return true;
    try {
      await sleep(intervalMs, signal);
    } catch {
      return false;
    }
  }
  return false;
}
