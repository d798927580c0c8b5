/**
 * Turns a byte stream into lines: UTF-8 safe across chunk boundaries, "\r\n" and "\n" both end
 * a line, over-long lines are cut into pieces of at most maxLineChars (a job printing a
 * progress bar without newlines must not grow one line without bound).
 */
import { StringDecoder } from "node:string_decoder";

export const MAX_LINE_CHARS = 64 * 1024;

export interface LineSplitter {
  push(chunk: Buffer | string): string[];
  /** The partial last line, if any (call once, when the stream ends). */
  end(): string[];
}

export function createLineSplitter(maxLineChars = MAX_LINE_CHARS): LineSplitter {
  const decoder = new StringDecoder("utf8");
  let partial = "";

  function cut(text: string, out: string[]): string {
    let rest = text;
    while (rest.length > maxLineChars) {
      out.push(rest.slice(0, maxLineChars));
      rest = rest.slice(maxLineChars);
    }
    return rest;
  }

  return {
    push(chunk) {
      const out: string[] = [];
      const text = partial + (typeof chunk === "string" ? chunk : decoder.write(chunk));
      const pieces = text.split("\n");
      partial = pieces.pop() ?? "";
      for (const piece of pieces) out.push(cut(piece.endsWith("\r") ? piece.slice(0, -1) : piece, out));
      partial = cut(partial, out);
      return out;
    },
    end() {
      const out: string[] = [];
      const rest = partial + decoder.end();
      partial = "";
      if (rest !== "") out.push(cut(rest, out));
      return out;
    },
  };
}
