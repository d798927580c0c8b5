/**
 * API result codes. 0–19 are the seed's table (names and messages exactly as published);
 * 20–31 continue it as the original FedML client does; 32 on are ours.
 */
export const ResultCode = {
  LAUNCH_JOB_STATUS_REQUEST_SUCCESS: 0,
  RESOURCE_MATCHED_STATUS_MATCHED: 1,
  RESOURCE_MATCHED_STATUS_JOB_URL_ERROR: 2,
  RESOURCE_MATCHED_STATUS_INVALID_PARAMS: 3,
  RESOURCE_MATCHED_STATUS_BLOCKED: 4,
  RESOURCE_MATCHED_STATUS_QUEUED: 5,
  RESOURCE_MATCHED_STATUS_BIND_CREDIT_CARD_FIRST: 6,
  RESOURCE_MATCHED_STATUS_QUERY_CREDIT_CARD_BINDING_STATUS_FAILED: 7,
  RESOURCE_MATCHED_STATUS_NO_RESOURCES: 8,
  RESOURCE_MATCHED_STATUS_REQUEST_FAILED: 9,
  LAUNCH_JOB_STATUS_REQUEST_FAILED: 10,
  LAUNCH_JOB_STATUS_JOB_URL_ERROR: 11,
  LAUNCH_JOB_STATUS_JOB_CANCELED: 12,
  LAUNCH_JOB_STATUS_NO_JOBS: 13,
  RESOURCE_MATCHED_STATUS_QUEUE_CANCELED: 14,
  CLUSTER_CONFIRM_FAILED: 15,
  CLUSTER_CREATION_FAILED: 16,
  LAUNCH_JOB_STATUS_INVALID: 17,
  LAUNCH_JOB_STATUS_BLOCKED: 18,
  APP_UPDATE_FAILED: 19,
  ERROR: 20,
  GENERAL_ERROR: 21,
  NO_SPECIFIC_ERROR: 22,
  QUERY_USER_BALANCE_FAILED: 23,
  USER_BALANCE_NOT_ENOUGH: 24,
  JOB_NOT_EXISTS: 25,
  MACHINE_STARTUP_FAILED: 26,
  CREATE_PROJECT_FAILED: 27,
  PROJECT_NOT_EXISTS: 28,
  DB_INSERT_ERROR: 29,
  OCCUPIED_FAILED: 30,
  JOB_CONFIG_NOT_EXISTS: 31,
  /** Ours: an operator's storage quota (workspaces, logs) is used up. */
  QUOTA_EXCEEDED: 32,
} as const;

export type ResultCodeName = keyof typeof ResultCode;
export type ResultCodeValue = (typeof ResultCode)[ResultCodeName];

/** The message published for each code (the seed's "Message" column; 20–31 reuse the name). */
export const ResultMessage: Readonly<Record<number, string>> = {
  0: "LAUNCH_REQUEST_SUCCESS",
  1: "MATCHED",
  2: "ERROR_JOB_URL",
  3: "INVALID_PARAMS",
  4: "BLOCKED",
  5: "QUEUED",
  6: "BIND_CREDIT_CARD_FIRST",
  7: "QUERY_CREDIT_CARD_BINDING_STATUS_FAILED",
  8: "NO_RESOURCES",
  9: "REQUEST_FAILED",
  10: "LAUNCH_REQUEST_FAILED",
  11: "LAUNCH_ERROR_JOB_URL",
  12: "LAUNCH_ERROR_JOB_CANCELED",
  13: "LAUNCH_ERROR_NO_JOBS",
  14: "QUEUE_CANCELED",
  15: "CLUSTER_CONFIRM_FAILED",
  16: "CLUSTER_CREATION_FAILED",
  17: "LAUNCH_JOB_STATUS_INVALID",
  18: "LAUNCH_JOB_STATUS_BLOCKED",
  19: "APP_UPDATE_FAILED",
  20: "ERROR",
  21: "GENERAL_ERROR",
  22: "NO_SPECIFIC_ERROR",
  23: "QUERY_USER_BALANCE_FAILED",
  24: "USER_BALANCE_NOT_ENOUGH",
  25: "JOB_NOT_EXISTS",
  26: "MACHINE_STARTUP_FAILED",
  27: "CREATE_PROJECT_FAILED",
  28: "PROJECT_NOT_EXISTS",
  29: "DB_INSERT_ERROR",
  30: "OCCUPIED_FAILED",
  31: "JOB_CONFIG_NOT_EXISTS",
  32: "QUOTA_EXCEEDED",
};

const nameByCode = new Map<number, ResultCodeName>(
  Object.entries(ResultCode).map(([name, code]) => [code, name as ResultCodeName]),
);

export function resultCodeName(code: number): ResultCodeName | undefined {
  return nameByCode.get(code);
}

/**
 * Every failure that crosses a boundary (API, SDK, CLI) carries a result code and a
 * one-line message that names what is wrong.
 */
export class FedmlError extends Error {
  constructor(
    readonly resultCode: number,
    message: string,
    /** HTTP status the server answers with; the client side leaves it undefined. */
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = "FedmlError";
  }
}
