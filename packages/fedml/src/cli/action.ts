/** Wraps a command so that any failure becomes the one-line error and exit code 1. */
import { InvalidArgumentError } from "commander";
import { formatError } from "./output.js";

/** A command's action may answer its exit code; anything else (or nothing) means 0. */
export function action<Args extends unknown[]>(run: (...args: Args) => Promise<unknown>) {
  return async (...args: Args): Promise<void> => {
    try {
      const code = await run(...args);
      process.exitCode = typeof code === "number" ? code : 0;
    } catch (err) {
      process.stderr.write(`${formatError(err)}\n`);
      process.exitCode = 1;
    }
  };
}

export function parseInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, got ${value}`);
    return n;
  };
}

export function parseNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number, got ${value}`);
    return n;
  };
}
