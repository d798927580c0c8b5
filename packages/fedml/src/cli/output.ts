/** Everything the CLI writes: JSON for machines, aligned tables for people, one-line errors. */
import { FedmlError, ResultCode, resultCodeName } from "@fedml/core";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** Progress and hints that must never mix into a command's real output. */
export function printNote(text: string): void {
  process.stderr.write(`${text}\n`);
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  alignRight?: boolean;
}

/** Compact table: columns padded to their widest cell, two spaces apart. */
export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i].length)));
  const render = (line: string[]) =>
    line
      .map((cell, i) => (columns[i].alignRight ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [render(columns.map((c) => c.header)), ...cells.map(render)].join("\n");
}

/** A failure as its result code and one-line message. */
export interface CliError {
  resultCode: number;
  message: string;
}

export function toCliError(err: unknown): CliError {
  const resultCode = err instanceof FedmlError ? err.resultCode : ResultCode.ERROR;
  const message = err instanceof Error ? err.message : String(err);
  return { resultCode, message: message.replace(/\s*\n\s*/g, " ").trim() };
}

/** `error: <message> (code N NAME)`: the one line a failing command writes to stderr. */
export function formatError(err: unknown): string {
  const { resultCode, message } = toCliError(err);
  return `error: ${message} (code ${resultCode} ${resultCodeName(resultCode) ?? "UNKNOWN"})`;
}

/** `{"resultCode": N, "message": "..."}` on stdout: what a failing command prints under --json. */
export function printErrorJson(err: unknown): void {
  printJson(toCliError(err));
}

export function formatTime(epochMs: number | null | undefined): string {
  if (!epochMs) return "-";
  return new Date(epochMs)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

export function formatDuration(ms: number | null | undefined): string {
  if (!ms || ms < 0) return "-";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** USD with enough digits that a small cost never reads $0.00. */
export function formatUsd(value: number): string {
  return `$${value.toFixed(value !== 0 && Math.abs(value) < 0.01 ? 6 : 2)}`;
}
