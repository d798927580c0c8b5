import { FedmlError, ResultCode } from "./codes.js";

// "$1.75", "1.75", "$3000", "$3,000", ".5" — what users write for a price cap in a YAML.
const PRICE = /^\$?\s*((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)$/;

/** A USD amount from a number or a price string; throws FedmlError(17) on anything else. */
export function parseMoney(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === "string") {
    const match = PRICE.exec(value.trim());
    if (match) return Number(match[1].replaceAll(",", ""));
  }
  throw new FedmlError(
    ResultCode.LAUNCH_JOB_STATUS_INVALID,
    `not a price: ${JSON.stringify(value) ?? String(value)} (write it like "$1.75")`,
  );
}

/**
 * Money inside the system (the store, the matcher, the ledger) is whole micro-dollars, so
 * sums and comparisons are exact; the API and the CLI show dollars. Safe up to $9 billion.
 */
export const MICROS_PER_USD = 1_000_000;

/** Dollars (as the API and YAML write them) to whole micro-dollars. */
export function toMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}

/** Whole micro-dollars to dollars, for the API. */
export function fromMicros(micros: number): number {
  return micros / MICROS_PER_USD;
}
