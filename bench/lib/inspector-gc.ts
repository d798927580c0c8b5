/**
 * A full garbage collection in another node process, through its inspector (`node --inspect`):
 * what DevTools' "Collect garbage" button does (HeapProfiler.collectGarbage, which has V8
 * collect all it can and give back what it freed). A memory figure taken right after it is
 * the process's live memory, without the garbage and young-generation room that a sample
 * taken anywhere in V8's collection cycle carries by chance.
 *
 * The WebSocket side is the protocol's minimum (RFC 6455): one masked text frame out, the
 * server's unmasked frames in, read until the answer to our one command.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { waitFor } from "../../test/support/wait.js";

/**
 * The inspector's WebSocket URL, from what `node --inspect` printed into the log files in
 * `dir`; throws if none says it within `waitMs` (node prints it as it starts, so a process
 * that has just been spawned may not have written it yet).
 */
export function inspectorUrlIn(dir: string, waitMs = 5_000): Promise<string> {
  const printed = () => {
    for (const name of readdirSync(dir)) {
      if (!name.endsWith(".log")) continue;
      const found = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(join(dir, name), "utf8"));
      if (found) return found[1];
    }
    return undefined;
  };
  return waitFor(`the inspector's address in the logs of ${dir}`, printed, waitMs, 100);
}

/** Resolves once the process has finished the collection (the inspector answers after it). */
export function collectGarbage(wsUrl: string, timeoutMs = 60_000): Promise<void> {
  const url = new URL(wsUrl);
  const command = Buffer.from(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" }));
  return new Promise<void>((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer to HeapProfiler.collectGarbage within ${timeoutMs} ms`));
    }, timeoutMs);
    const settle = (error?: Error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    req.once("error", settle);
    req.once("response", (res) => settle(new Error(`the inspector refused the WebSocket: HTTP ${res.statusCode}`)));
    req.once("upgrade", (_res, socket, head) => {
      let buffered = head;
      socket.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (let frame = readFrame(buffered); frame; frame = readFrame(buffered)) {
          buffered = buffered.subarray(frame.size);
          const message = JSON.parse(frame.text) as { id?: number; error?: { message: string } };
          if (message.id !== 1) continue;
          socket.end();
          settle(message.error ? new Error(`HeapProfiler.collectGarbage: ${message.error.message}`) : undefined);
        }
      });
      socket.once("error", settle);
      socket.write(maskedTextFrame(command));
    });
    req.end();
  });
}

/** A client's frame: FIN and text opcode, then the payload masked with a random key, as RFC 6455 requires. */
function maskedTextFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff]);
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, masked]);
}

/** The first whole frame in `data` (the server's frames are unmasked), or null until it has all arrived. */
function readFrame(data: Buffer): { text: string; size: number } | null {
  if (data.length < 2) return null;
  let length = data[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return null;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return null;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (data.length < offset + length) return null;
  return { text: data.toString("utf8", offset, offset + length), size: offset + length };
}
