/**
 * The tests' peer: a tiny HTTP server speaking the agent side of protocol.ts (hello, long-poll
 * assignments, statuses, log batches with ackedSeq/409, workspaces). Not a part we ship.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  API_PREFIX,
  type Assignment,
  type HelloRequest,
  type LogLine,
  type LogTextBatch,
  type RegisterRequest,
  type RunReportBatch,
  type RunStatusReport,
} from "@fedml/core";

export type Interceptor = (req: IncomingMessage, body: unknown) => "drop" | { status: number; body: unknown } | undefined;

export class StandInServer {
  server: Server | null = null;
  port = 0;
  token = "device-token-1";
  userKey = "user-api-key";
  registrations: RegisterRequest[] = [];
  unregistered = 0;
  offlineAfterMs = 30_000;
  hellos: HelloRequest[] = [];
  statuses = new Map<string, RunStatusReport[]>();
  /** How many reports each status request carried (1 for the per-run route). */
  reportRequests: number[] = [];
  /** Answers POST /agent/reports with 404, as a server from before that route would. */
  withoutReportBatches = false;
  /** How long POST /agent/reports takes to answer (a busy server). */
  reportDelayMs = 0;
  lines = new Map<string, LogLine[]>();
  /** Log requests seen: their line counts and how many were in flight at once. */
  batches: number[] = [];
  maxLogsInFlight = 0;
  private logsInFlight = 0;
  /** Log lines stored per run at the time each status arrived. */
  linesAtStatus = new Map<string, number[]>();
  assignments: Assignment[] = [];
  version = 0;
  workspaces = new Map<string, Buffer>();
  intercept: Interceptor | null = null;
  private waiters: (() => void)[] = [];
  private sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Closes the server and every open connection (a crash, as the agent sees it). */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  assign(list: Assignment[]): void {
    this.assignments = list;
    this.version++;
    for (const wake of this.waiters.splice(0)) wake();
  }

  statusesOf(runId: string): string[] {
    return (this.statuses.get(runId) ?? []).map((s) => s.status);
  }

  private takeStatus(runId: string, report: RunStatusReport): void {
    this.statuses.set(runId, [...(this.statuses.get(runId) ?? []), report]);
    this.linesAtStatus.set(runId, [...(this.linesAtStatus.get(runId) ?? []), this.lines.get(runId)?.length ?? 0]);
  }

  textsOf(runId: string): string[] {
    return (this.lines.get(runId) ?? []).map((l) => l.text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const body = raw ? JSON.parse(raw) : undefined;
    const answer = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    // The log text route's batch reads as the per-line route's, for interceptors too.
    if (body && req.url?.endsWith("/logs/text")) body.lines = linesOfText(body as LogTextBatch);
    const injected = this.intercept?.(req, body);
    if (injected === "drop") return void req.socket.destroy();
    if (injected) return answer(injected.status, injected.body);
    if (req.method === "POST" && req.url === `${API_PREFIX}/agent/register`) {
      if (req.headers.authorization !== `Bearer ${this.userKey}`) {
        return answer(401, { resultCode: 20, resultMsg: "ERROR", error: "invalid API key" });
      }
      this.registrations.push(body as RegisterRequest);
      return answer(200, { deviceId: (body as RegisterRequest).previousDeviceId ?? "dev-1", deviceToken: this.token });
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return answer(401, { resultCode: 20, resultMsg: "ERROR", error: "unknown device token" });
    }
    const url = new URL(req.url ?? "/", this.url);
    const path = url.pathname.slice(API_PREFIX.length);
    let m: RegExpMatchArray | null;
    if (req.method === "POST" && path === "/agent/unregister") {
      this.unregistered++;
      return answer(200, {});
    }
    if (req.method === "POST" && path === "/agent/hello") {
      this.hellos.push(body as HelloRequest);
      return answer(200, { deviceId: "dev-1", offlineAfterMs: this.offlineAfterMs });
    }
    if (req.method === "GET" && path === "/agent/assignments") {
      const since = Number(url.searchParams.get("since") ?? 0);
      const waitMs = Number(url.searchParams.get("waitMs") ?? 0);
      if (this.version <= since) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, waitMs);
          this.waiters.push(wake);
          res.once("close", wake);
        });
      }
      if (res.destroyed) return;
      return answer(200, { version: this.version, assignments: this.assignments });
    }
    if (req.method === "POST" && (m = path.match(/^\/agent\/runs\/([^/]+)\/status$/))) {
      this.reportRequests.push(1);
      this.takeStatus(decodeURIComponent(m[1]), body as RunStatusReport);
      return answer(200, {});
    }
    if (req.method === "POST" && path === "/agent/reports" && !this.withoutReportBatches) {
      const { reports } = body as RunReportBatch;
      if (this.reportDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.reportDelayMs));
      this.reportRequests.push(reports.length);
      for (const { runId, ...report } of reports) this.takeStatus(runId, report);
      return answer(200, { results: reports.map(() => ({ status: 200 })) });
    }
    if (req.method === "POST" && (m = path.match(/^\/agent\/runs\/([^/]+)\/logs(\/text)?$/))) {
      const runId = decodeURIComponent(m[1]);
      this.batches.push(body.lines.length);
      this.logsInFlight++;
      this.maxLogsInFlight = Math.max(this.maxLogsInFlight, this.logsInFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      this.logsInFlight--;
      const stored = this.lines.get(runId) ?? [];
      this.lines.set(runId, stored);
      for (const line of body.lines as LogLine[]) {
        if (line.seq <= stored.length) continue;
        if (line.seq !== stored.length + 1) {
          return answer(409, { resultCode: 20, resultMsg: "ERROR", error: "log lines out of order", ackedSeq: stored.length });
        }
        stored.push(line);
      }
      return answer(200, { ackedSeq: stored.length });
    }
    if (req.method === "GET" && (m = path.match(/^\/agent\/workspaces\/([0-9a-f]+)$/))) {
      const blob = this.workspaces.get(m[1]);
      if (!blob) return answer(404, { resultCode: 20, resultMsg: "ERROR", error: "no such workspace" });
      res.writeHead(200, { "content-type": "application/gzip" });
      return void res.end(blob);
    }
    answer(404, { resultCode: 20, resultMsg: "ERROR", error: `no route ${req.method} ${path}` });
  }
}

/** The lines of a LogTextBatch, as the per-line route takes them. */
function linesOfText(batch: LogTextBatch): LogLine[] {
  const texts = batch.text.split("\n").slice(0, -1);
  const lines: LogLine[] = [];
  for (const [count, time, stream] of batch.runs) {
    for (let i = 0; i < count; i++) {
      const seq = batch.firstSeq + lines.length;
      lines.push({ seq, text: texts[lines.length], time, stream: stream === 1 ? "stderr" : "stdout" });
    }
  }
  return lines;
}
