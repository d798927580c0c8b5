/**
 * The fleet section's simulated agents' HTTP: one keep-alive HTTP/1.1 connection per device,
 * one request at a time, each written as one prepared string and its answer parsed from the
 * status line and Content-Length. The routes, headers and JSON are the agent protocol's; what
 * is left out is the agent client's generality (retries over replicas, timeouts as abort
 * signals, a shared socket pool), which cost the load generator more CPU per poll than the
 * server spent answering it: 10,000 simulated agents on two cores then measured their own
 * processes' queueing, not the server's.
 */
import { type Socket, connect } from "node:net";

export interface LeanAnswer {
  status: number;
  body: string;
  /** A held poll's Server-Timing `hold;dur=N`: the longest the server was to hold it (ms). */
  holdMs?: number;
}

const HEADER_END = Buffer.from("\r\n\r\n");

export class LeanConnection {
  private socket: Socket | undefined;
  private pending: { resolve: (a: LeanAnswer) => void; reject: (e: Error) => void } | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly host: string;
  private readonly port: number;
  private readonly auth: string;

  constructor(serverUrl: string, bearer: string) {
    const url = new URL(serverUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.auth = `Host: ${url.host}\r\nAuthorization: Bearer ${bearer}\r\n`;
  }

  request(method: string, path: string, body?: unknown): Promise<LeanAnswer> {
    if (this.pending) return Promise.reject(new Error("one request at a time"));
    const payload = body === undefined ? "" : JSON.stringify(body);
    const head =
      body === undefined
        ? `${method} ${path} HTTP/1.1\r\n${this.auth}\r\n`
        : `${method} ${path} HTTP/1.1\r\n${this.auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n`;
    return new Promise<LeanAnswer>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.open().write(head + payload);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    this.buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    const fail = (error: Error) => {
      if (this.socket === socket) this.socket = undefined;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("the connection closed before the answer")));
    this.socket = socket;
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = this.buffered.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buffered.toString("latin1", 0, end);
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? Number.NaN);
    if (!Number.isFinite(length)) {
      this.socket?.destroy(new Error(`an answer without Content-Length: ${head.split("\r\n")[0]}`));
      return;
    }
    const bodyStart = end + HEADER_END.length;
    if (this.buffered.length < bodyStart + length) return;
    const body = this.buffered.toString("utf8", bodyStart, bodyStart + length);
    this.buffered = this.buffered.subarray(bodyStart + length);
    const status = Number(head.slice(9, 12));
    const p = this.pending;
    this.pending = undefined;
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    const hold = /\r\nserver-timing:\s*hold;dur=(\d+)/i.exec(head);
    p?.resolve(hold ? { status, body, holdMs: Number(hold[1]) } : { status, body });
  }
}
