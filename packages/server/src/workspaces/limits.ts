import { FedmlError, ResultCode } from "@fedml/core";

/** What the operator bounds workspace storage by (server options). */
export interface WorkspaceLimits {
  /** One workspace (one blob). */
  maxWorkspaceBytes: number;
  /** Every blob and upload in progress together; least recently used blobs go first. */
  workspaceStoreBytes: number;
  /** What one user's blobs and uploads may add up to. */
  userWorkspaceBytes: number;
}

const MiB = 1024 * 1024;

export function megabytes(bytes: number): string {
  return `${Number((bytes / MiB).toFixed(1))} MB`;
}

export function workspaceTooLarge(max: number): FedmlError {
  return new FedmlError(
    ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
    `workspace is larger than this server accepts (${max} bytes)`,
    413,
  );
}

export function quotaExceeded(message: string, httpStatus: number): FedmlError {
  return new FedmlError(ResultCode.QUOTA_EXCEEDED, message, httpStatus);
}
