import { FedmlError, ResultCode } from "./codes.js";

export interface DeviceLogCount {
  deviceId: string;
  /** The device's lines are numbered 1..count. */
  count: number;
}

export interface LogRange {
  deviceId: string;
  fromSeq: number;
  toSeq: number;
}

export interface LogPagePlan {
  totalLines: number;
  /** 0 when the log is empty. */
  totalPages: number;
  pageNum: number;
  /** In rank order; empty when pageNum is past the end. */
  ranges: LogRange[];
}

/**
 * Which device lines make up page `pageNum` (1-based) of a run's log, where the log is the
 * devices' lines concatenated in the order given.
 */
export function planLogPage(devices: readonly DeviceLogCount[], pageNum: number, pageSize: number): LogPagePlan {
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `page_size must be a whole number >= 1, got ${pageSize}`,
    );
  }
  if (!Number.isSafeInteger(pageNum) || pageNum < 1) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `page_num must be a whole number >= 1, got ${pageNum}`,
    );
  }
  for (const d of devices) {
    if (!Number.isSafeInteger(d.count) || d.count < 0) {
      throw new FedmlError(
        ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
        `device ${d.deviceId} has an invalid log line count ${d.count}`,
      );
    }
  }
  const totalLines = devices.reduce((sum, d) => sum + d.count, 0);
  const totalPages = Math.ceil(totalLines / pageSize);
  // Global line numbers (1-based) this page covers.
  const first = (pageNum - 1) * pageSize + 1;
  const last = Math.min(pageNum * pageSize, totalLines);
  const ranges: LogRange[] = [];
  let offset = 0;
  for (const { deviceId, count } of devices) {
    const from = Math.max(first, offset + 1);
    const to = Math.min(last, offset + count);
    if (from <= to) ranges.push({ deviceId, fromSeq: from - offset, toSeq: to - offset });
    offset += count;
  }
  return { totalLines, totalPages, pageNum, ranges };
}
