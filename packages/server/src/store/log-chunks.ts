/**
 * How a part's log is stored: chunks of consecutive lines, a row per chunk instead of a row
 * per line. A chunk's text is its lines joined by "\n", except a chunk of one line, whose text
 * is the line as it is (so a line holding "\n", which only the per-line API can send, is stored
 * alone and read back exact). Each line's read time and stream are kept as runs of
 * [line count, epoch ms, 0 stdout | 1 stderr]: an agent stamps a whole read of the job's
 * output at once, so a chunk holds a few runs, not one per line.
 */
import { FedmlError, type LogLine, type LogTextBatch, ResultCode } from "@fedml/core";

export type LogRun = [count: number, time: number, stream: 0 | 1];

export interface LogChunk {
  firstSeq: number;
  count: number;
  text: string;
  runs: LogRun[];
  /** UTF-8 bytes of the lines' text (newlines between them not counted); 0 when read back. */
  bytes: number;
}

/** As the agent cuts lines: a line longer than this (from any client) is stored cut. */
export const MAX_STORED_LINE_CHARS = 64 * 1024;
/** A chunk holds at most this many lines... */
export const MAX_CHUNK_LINES = 1000;
/** ... and stops taking lines past this much text: reading one line reads its whole chunk. */
export const MAX_CHUNK_CHARS = 256 * 1024;

export const bytesOf = (text: string) => Buffer.byteLength(text, "utf8");

const streamCode = (stream: LogLine["stream"]): 0 | 1 => (stream === "stderr" ? 1 : 0);

export function storedText(text: string): string {
  const cut = text.length > MAX_STORED_LINE_CHARS ? text.slice(0, MAX_STORED_LINE_CHARS) : text;
  // PostgreSQL text cannot hold NUL; SQLite could, but both store the same line.
  return cut.includes("\u0000") ? cut.replaceAll("\u0000", "\uFFFD") : cut;
}

export function singleLine(seq: number, text: string, time: number, stream: 0 | 1): LogChunk {
  return { firstSeq: seq, count: 1, text, runs: [[1, Math.trunc(time), stream]], bytes: bytesOf(text) };
}

function addToRuns(runs: LogRun[], time: number, stream: 0 | 1, count = 1): void {
  const last = runs[runs.length - 1];
  if (last && last[1] === time && last[2] === stream) last[0] += count;
  else runs.push([count, time, stream]);
}

/** Lines with contiguous seqs from firstSeq, as chunks. */
export function chunksOfLines(firstSeq: number, lines: readonly LogLine[]): LogChunk[] {
  const chunks: LogChunk[] = [];
  let texts: string[] = [];
  let runs: LogRun[] = [];
  let chars = 0;
  let bytes = 0;
  let seq = firstSeq;
  const flush = () => {
    if (texts.length === 0) return;
    chunks.push({ firstSeq: seq, count: texts.length, text: texts.join("\n"), runs, bytes });
    seq += texts.length;
    texts = [];
    runs = [];
    chars = 0;
    bytes = 0;
  };
  for (const line of lines) {
    const text = storedText(line.text);
    const time = Math.trunc(line.time);
    if (text.includes("\n")) {
      flush();
      chunks.push(singleLine(seq, text, time, streamCode(line.stream)));
      seq++;
      continue;
    }
    if (texts.length >= MAX_CHUNK_LINES || (texts.length > 0 && chars + text.length > MAX_CHUNK_CHARS)) flush();
    texts.push(text);
    addToRuns(runs, time, streamCode(line.stream));
    chars += text.length + 1;
    bytes += bytesOf(text);
  }
  flush();
  return chunks;
}

/** Lines in a LogTextBatch: its "\n"s, when its runs cover exactly that many; a 400 otherwise. */
export function linesInText(batch: LogTextBatch): number {
  let lines = 0;
  for (let at = batch.text.indexOf("\n"); at !== -1; at = batch.text.indexOf("\n", at + 1)) lines++;
  const covered = batch.runs.reduce((sum, run) => sum + run[0], 0);
  if (batch.text.length > 0 && !batch.text.endsWith("\n")) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "log text must end each line with \\n", 400);
  }
  if (covered !== lines) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `log text holds ${lines} lines but its runs cover ${covered}`,
      400,
    );
  }
  return lines;
}

/** Takes runs off the front of a list, line by line counts, without changing the list. */
function runCursor(runs: readonly LogRun[]) {
  let index = 0;
  let usedOfRun = 0;
  return {
    take(count: number): LogRun[] {
      const out: LogRun[] = [];
      let left = count;
      while (left > 0) {
        const run = runs[index];
        const n = Math.min(left, run[0] - usedOfRun);
        out.push([n, Math.trunc(run[1]), run[2]]);
        left -= n;
        usedOfRun += n;
        if (usedOfRun === run[0]) {
          index++;
          usedOfRun = 0;
        }
      }
      return out;
    },
  };
}

/**
 * A LogTextBatch's lines from seq `fromSeq` on (within the batch; see linesInText), as chunks:
 * the text is cut at its "\n"s, no string or object per line.
 */
export function chunksOfText(batch: LogTextBatch, fromSeq: number): LogChunk[] {
  const text = batch.text;
  const runs = runCursor(batch.runs);
  let pos = 0;
  for (let skip = fromSeq - batch.firstSeq; skip > 0; skip--) pos = text.indexOf("\n", pos) + 1;
  runs.take(fromSeq - batch.firstSeq);
  const chunks: LogChunk[] = [];
  let seq = fromSeq;
  let start = pos;
  let count = 0;
  const flush = () => {
    if (count === 0) return;
    const body = text.slice(start, pos - 1);
    chunks.push({ firstSeq: seq, count, text: body, runs: runs.take(count), bytes: bytesOf(body) - (count - 1) });
    seq += count;
    count = 0;
  };
  for (let end = text.indexOf("\n", pos); end !== -1; end = text.indexOf("\n", pos)) {
    if (end - pos > MAX_STORED_LINE_CHARS) {
      // Only a client other than our agent sends such a line: it is stored cut, alone.
      flush();
      const [run] = runs.take(1);
      chunks.push(singleLine(seq, storedText(text.slice(pos, end)), run[1], run[2]));
      seq++;
      pos = end + 1;
      start = pos;
      continue;
    }
    if (count >= MAX_CHUNK_LINES || (count > 0 && end - start > MAX_CHUNK_CHARS)) {
      flush();
      start = pos;
    }
    count++;
    pos = end + 1;
  }
  flush();
  return chunks;
}

/**
 * Lines fromSeq..toSeq of a chunk (clamped to it) as a chunk: the text is cut at line
 * boundaries found by its "\n"s, with no string per line.
 */
export function sliceChunk(chunk: LogChunk, fromSeq: number, toSeq: number): LogChunk {
  const first = Math.max(fromSeq, chunk.firstSeq);
  const last = Math.min(toSeq, chunk.firstSeq + chunk.count - 1);
  if (first === chunk.firstSeq && last === chunk.firstSeq + chunk.count - 1) return chunk;
  const runs = runCursor(chunk.runs);
  runs.take(first - chunk.firstSeq);
  let start = 0;
  for (let skip = first - chunk.firstSeq; skip > 0; skip--) start = chunk.text.indexOf("\n", start) + 1;
  let end = start;
  for (let n = last - first + 1; n > 0; n--) {
    const at = chunk.text.indexOf("\n", end);
    end = at === -1 ? chunk.text.length : at + 1;
  }
  const text = chunk.text.slice(start, end === chunk.text.length && !chunk.text.endsWith("\n") ? end : end - 1);
  return { firstSeq: first, count: last - first + 1, text, runs: runs.take(last - first + 1), bytes: 0 };
}

/** A chunk's lines, in seq order. */
export function linesOfChunk(chunk: Pick<LogChunk, "count" | "text">): string[] {
  return chunk.count === 1 ? [chunk.text] : chunk.text.split("\n");
}

/** [time, stream] of each line of the runs, in order. */
export function expandRuns(runs: readonly LogRun[]): [number, 0 | 1][] {
  const out: [number, 0 | 1][] = [];
  for (const [count, time, stream] of runs) for (let i = 0; i < count; i++) out.push([time, stream]);
  return out;
}

export function chunkOfRow(row: { first_seq: number; last_seq: number; text: string; runs_json: string }): LogChunk {
  return {
    firstSeq: Number(row.first_seq),
    count: Number(row.last_seq) - Number(row.first_seq) + 1,
    text: row.text,
    runs: JSON.parse(row.runs_json) as LogRun[],
    bytes: 0,
  };
}
