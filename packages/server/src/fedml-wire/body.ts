import { FedmlError, ResultCode } from "@fedml/core";

/**
 * Reading the official client's JSON bodies field by field: it sends no schema we could
 * hold it to (filler fields differ between its versions), so each route names only what it
 * reads, and a wrong or missing field is a one-line FAILURE naming it.
 */
export type WireBody = Record<string, unknown>;

function invalid(message: string): FedmlError {
  return new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, message, 400);
}

export function bodyOf(raw: unknown): WireBody {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw invalid("send a JSON object as the body");
  return raw as WireBody;
}

export function text(body: WireBody, field: string, opts: { optional?: boolean; max?: number } = {}): string {
  const value = body[field];
  if (value === undefined || value === null) {
    if (opts.optional) return "";
    throw invalid(`${field} is missing`);
  }
  // The client sends ids as strings or numbers depending on its version.
  const str = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof str !== "string") throw invalid(`${field} must be a string`);
  const max = opts.max ?? 1024;
  if (str.length > max) throw invalid(`${field} is longer than ${max} characters`);
  return str;
}

export function count(body: WireBody, field: string, fallback: number, max: number): number {
  const value = body[field];
  if (value === undefined || value === null || value === "") return fallback;
  const n = typeof value === "string" && /^\d{1,9}$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > max) {
    throw invalid(`${field} must be a whole number from 1 to ${max}`);
  }
  return n;
}

export function names(body: WireBody, field: string): string[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 1000 || !value.every((v) => typeof v === "string" && v.length <= 256)) {
    throw invalid(`${field} must be a list of names`);
  }
  return value as string[];
}
