/**
 * Reads a job's output file as it grows, whole lines only, from a byte offset: the offset of
 * the last line the server has acknowledged is all a restarted agent needs to go on without
 * losing or repeating a line.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { MAX_LINE_CHARS } from "../runner/line-splitter.js";

const READ_BYTES = 1024 * 1024;

export class FileTail {
  constructor(
    private readonly file: string,
    /** Bytes already turned into lines. */
    public offset: number,
  ) {}

  /**
   * The complete lines written since the last call; with `final`, the last unterminated one
   * too (the job has ended, nothing more comes).
   */
  read(final = false): string[] {
    let fd: number;
    try {
      fd = openSync(this.file, "r");
    } catch {
      return [];
    }
    const lines: string[] = [];
    try {
      const buffer = Buffer.alloc(READ_BYTES);
      let carry = Buffer.alloc(0);
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, this.offset + carry.length);
        if (read === 0) break;
        const chunk = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, read)]) : buffer.subarray(0, read);
        const lastNewline = chunk.lastIndexOf(10);
        if (lastNewline === -1) {
          carry = Buffer.from(chunk);
          // A line longer than any we keep: cut it here rather than hold it forever.
          if (carry.length >= MAX_LINE_CHARS * 4) {
            pushLines(carry.toString("utf8"), lines);
            this.offset += carry.length;
            carry = Buffer.alloc(0);
          }
          continue;
        }
        pushLines(chunk.subarray(0, lastNewline).toString("utf8"), lines);
        this.offset += lastNewline + 1;
        carry = Buffer.from(chunk.subarray(lastNewline + 1));
      }
      if (final && carry.length > 0) {
        pushLines(carry.toString("utf8"), lines);
        this.offset += carry.length;
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  }
}

function pushLines(text: string, out: string[]): void {
  for (let line of text.split("\n")) {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    while (line.length > MAX_LINE_CHARS) {
      out.push(line.slice(0, MAX_LINE_CHARS));
      line = line.slice(MAX_LINE_CHARS);
    }
    out.push(line);
  }
}
