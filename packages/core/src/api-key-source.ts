/**
 * Where `fedml login`, `fedml device bind` and `fedml-agent bind` read the API key from, so it
 * need not sit in argv (which `ps` shows every user): stdin (`-` or --api-key-stdin), a file
 * (--api-key-file), or FEDML_API_KEY; an argument still works.
 */
import { readFileSync } from "node:fs";
import { FedmlError, ResultCode } from "./codes.js";

export interface ApiKeySources {
  /** The positional argument or --api-key; "-" means stdin. */
  argument?: string | null;
  stdin?: boolean;
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Reads all of stdin (tests pass their own). */
  readStdin?: () => string;
}

export function resolveApiKey(sources: ApiKeySources): string {
  const fromArgument = sources.argument && sources.argument !== "-" ? sources.argument : null;
  const wantsStdin = sources.stdin === true || sources.argument === "-";
  const given = [fromArgument !== null, wantsStdin, Boolean(sources.file)].filter(Boolean).length;
  if (given > 1) throw invalid("give the API key one way: as an argument, on stdin or in a file");
  let key: string | undefined;
  if (fromArgument !== null) key = fromArgument;
  else if (wantsStdin) key = (sources.readStdin ?? (() => readFileSync(0, "utf8")))();
  else if (sources.file) {
    try {
      key = readFileSync(sources.file, "utf8");
    } catch (error) {
      throw invalid(
        `cannot read the API key file ${sources.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  } else key = (sources.env ?? process.env).FEDML_API_KEY;
  const trimmed = key?.trim() ?? "";
  if (trimmed === "") {
    throw invalid(
      wantsStdin || sources.file
        ? "the API key is empty"
        : "no API key: pass it as an argument, with --api-key-stdin, --api-key-file FILE or in FEDML_API_KEY",
    );
  }
  return trimmed;
}

function invalid(message: string): FedmlError {
  return new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, message);
}
