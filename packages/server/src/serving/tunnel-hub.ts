/**
 * The agents' tunnels held by this server process: one HTTP/2 session per device, over the
 * connection the agent opened (the server is the HTTP/2 client on it). The inference proxy
 * sends requests down these and never dials a device itself.
 */
import { EventEmitter, once } from "node:events";
import { type ClientHttp2Session, connect } from "node:http2";
import type { Socket } from "node:net";

/** Bigger windows than HTTP/2's 64 KiB default: large bodies would otherwise crawl. */
const WINDOW_BYTES = 4 * 1024 * 1024;

/** Told when this process starts and stops holding a device's tunnel (tunnel-peers.ts records it). */
export interface TunnelListener {
  held(deviceId: number): void;
  released(deviceId: number): void;
}

export class TunnelHub {
  private readonly sessions = new Map<number, ClientHttp2Session>();
  private readonly attached = new EventEmitter().setMaxListeners(0);
  /** Set once the server knows the URL its peers reach it at. */
  listener: TunnelListener | undefined;

  /** Takes over an upgraded connection from device `deviceId`; a newer tunnel replaces an older one. */
  attach(deviceId: number, socket: Socket): void {
    socket.setNoDelay(true);
    // A peer gone without a FIN (a NAT box forgot it) must not hold a dead session forever.
    socket.setKeepAlive(true, 15_000);
    const session = connect("http://fedml-agent.invalid", {
      createConnection: () => socket,
      settings: { initialWindowSize: WINDOW_BYTES },
    });
    session.on("connect", () => session.setLocalWindowSize(WINDOW_BYTES));
    // Errors end the session; "close" below forgets it.
    session.on("error", () => {});
    session.once("close", () => {
      if (this.sessions.get(deviceId) !== session) return;
      this.sessions.delete(deviceId);
      this.listener?.released(deviceId);
    });
    const previous = this.sessions.get(deviceId);
    this.sessions.set(deviceId, session);
    previous?.destroy();
    this.listener?.held(deviceId);
    this.attached.emit(String(deviceId));
  }

  /** The device's open tunnel, if it has one to this process. */
  sessionOf(deviceId: number): ClientHttp2Session | undefined {
    const session = this.sessions.get(deviceId);
    return session && !session.closed && !session.destroyed ? session : undefined;
  }

  /** The device's tunnel, waiting up to `timeoutMs` for one (an agent that is reconnecting). */
  async sessionWithin(deviceId: number, timeoutMs: number): Promise<ClientHttp2Session | undefined> {
    const open = this.sessionOf(deviceId);
    if (open || timeoutMs <= 0) return open;
    try {
      await once(this.attached, String(deviceId), { signal: AbortSignal.timeout(timeoutMs) });
    } catch {
      return undefined;
    }
    return this.sessionOf(deviceId);
  }

  close(): void {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}
