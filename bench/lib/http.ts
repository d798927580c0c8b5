import { Agent, request } from "node:http";

/**
 * Kept-alive sockets for every call: the load generator shares the benchmark's two cores with
 * what it measures, and node:http costs a fraction of fetch's CPU per request.
 */
const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });

/** JSON over HTTP with a bearer key; throws one line on a non-2xx answer. */
export function call<T>(url: string, key: string, method = "GET", body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> = { authorization: `Bearer ${key}` };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  return new Promise<T>((resolve, reject) => {
    const req = request(url, { method, headers, agent: keepAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          reject(new Error(`${method} ${url}: ${status} ${text.slice(0, 200)}`));
          return;
        }
        try {
          resolve(JSON.parse(text) as T);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}
