import { FedmlError, ResultCode } from "../codes.js";

const MIB = 1024 * 1024;

export const DEFAULT_MAX_WORKSPACE_BYTES = 500 * MIB;

/** The workspace size cap: FEDML_MAX_WORKSPACE_MB (in MiB, as the messages say "MB") or 500. */
export function maxWorkspaceBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FEDML_MAX_WORKSPACE_MB?.trim();
  if (!raw) return DEFAULT_MAX_WORKSPACE_BYTES;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb <= 0) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `FEDML_MAX_WORKSPACE_MB must be a positive number of megabytes, got '${raw}'`,
    );
  }
  return Math.floor(mb * MIB);
}

/** "812.4 MB" (one decimal), for an actual size. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MB`;
}

/** "500 MB" / "0.5 MB", for a configured cap (no trailing ".0"). */
export function formatCap(bytes: number): string {
  return `${Number((bytes / MIB).toFixed(1))} MB`;
}
