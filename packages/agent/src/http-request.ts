/**
 * A small HTTP client over node:http with a keep-alive agent. The daemon avoids the global
 * fetch: loading undici costs an idle agent about 9 MB, and its per-request work shows in
 * short-job throughput. https loads only for an https server.
 */
import { Agent as HttpAgent, type IncomingMessage, type RequestOptions, request as httpRequest } from "node:http";

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Aborts the request and the reading of its answer; the call rejects with its reason. */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  ok: boolean;
  /** The body, unread: read it with text()/json() or pipe it (once). */
  body: IncomingMessage;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

const httpAgent = new HttpAgent({ keepAlive: true });
let httpsAgent: HttpAgent | undefined;

async function transport(url: URL): Promise<{ request: typeof httpRequest; agent: HttpAgent }> {
  if (url.protocol === "http:") return { request: httpRequest, agent: httpAgent };
  if (url.protocol !== "https:") throw new Error(`unsupported protocol ${url.protocol}`);
  const https = await import("node:https");
  httpsAgent ??= new https.Agent({ keepAlive: true });
  return { request: https.request as unknown as typeof httpRequest, agent: httpsAgent };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

export async function httpCall(target: string, options: HttpRequest): Promise<HttpAnswer> {
  const url = new URL(target);
  const { request, agent } = await transport(url);
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);
  return new Promise<HttpAnswer>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = Buffer.byteLength(options.body);
    const requestOptions: RequestOptions = { method: options.method, headers, agent };
    const req = request(url, requestOptions);
    let answer: IncomingMessage | undefined;
    const onAbort = () => {
      const error = abortError(signal as AbortSignal);
      req.destroy(error);
      answer?.destroy(error);
      reject(error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const release = () => signal?.removeEventListener("abort", onAbort);
    req.once("error", (error) => {
      release();
      reject(error);
    });
    req.once("response", (response: IncomingMessage) => {
      answer = response;
      response.once("close", release);
      const status = response.statusCode ?? 0;
      const text = () =>
        new Promise<string>((done, fail) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.once("end", () => done(Buffer.concat(chunks).toString("utf8")));
          response.once("error", fail);
          // A connection cut mid-body: settle rather than wait forever (no-op after end).
          response.once("close", () => fail(new Error("the connection closed before the answer was complete")));
        });
      resolve({
        status,
        ok: status >= 200 && status < 300,
        body: response,
        text,
        json: async () => JSON.parse(await text()) as unknown,
      });
    });
    req.end(options.body);
  });
}
