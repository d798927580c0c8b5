/** Wraps a command so that any failure becomes the one-line error (or, with --json, an error object) and a non-zero exit. */
import { type Command, InvalidArgumentError } from "commander";
import { printErrorJson, formatError } from "./output.js";

/** Every failing command exits with this (a job's own exit code aside: see `fedml launch`). */
export const FAILURE_EXIT = 1;

/** A command's action may answer its exit code; anything else (or nothing) means 0. */
export function action<Args extends unknown[]>(run: (...args: Args) => Promise<unknown>) {
  return async (...args: Args): Promise<void> => {
    try {
      const code = await run(...args);
      process.exitCode = typeof code === "number" ? code : 0;
    } catch (err) {
      reportFailure(err, wantsJson(args));
      process.exitCode = FAILURE_EXIT;
    }
  };
}

/** Scripts that asked for --json read the error from stdout too, as an object with the result code. */
export function reportFailure(err: unknown, json: boolean): void {
  if (json) printErrorJson(err);
  else process.stderr.write(`${formatError(err)}\n`);
}

/** Commander hands an action its arguments, then the options, then the Command itself. */
function wantsJson(args: readonly unknown[]): boolean {
  const command = args[args.length - 1] as Command | undefined;
  return typeof command?.opts === "function" && command.opts().json === true;
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
