export { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, sleep } from "@fedml/core/contract";
