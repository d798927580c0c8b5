/**
 * Several URLs of one control plane (replicas on one PostgreSQL, or a load balancer and the
 * replicas behind it). Clients and agents use one until it stops answering, then move on to
 * the next, and stay there while it answers: a healthy replica keeps its clients.
 */

/** Splits `--server a,b,c` (commas or whitespace) into URLs without trailing slashes. */
export function parseServerUrls(text: string): string[] {
  const urls = text
    .split(/[\s,]+/)
    .map((url) => url.trim().replace(/\/+$/, ""))
    .filter((url) => url !== "");
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`"${url}" is not a server URL (expected http://host:port)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new Error(`"${url}" is not an http:// or https:// server URL`);
    }
  }
  return urls;
}

/** The answers that mean "this replica (or the proxy's upstream) cannot serve now; another may". */
export function isFailoverStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

/** Connection errors that mean the request never reached a server: any call may go to the next. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);

/** Whether a request that failed with this error code surely did not reach a server. */
export function surelyNotSent(code: string | undefined): boolean {
  return code !== undefined && NOT_SENT.has(code);
}

/** The replicas of one server, with the one in use now. */
export class ServerList {
  readonly urls: readonly string[];
  private index = 0;

  constructor(urls: readonly string[]) {
    if (urls.length === 0) throw new Error("no server URL given");
    this.urls = [...urls];
  }

  static parse(text: string): ServerList {
    return new ServerList(parseServerUrls(text));
  }

  /** The URL in use now. */
  get current(): string {
    return this.urls[this.index];
  }

  /**
   * `url` stopped answering: move to the next one, unless another caller already moved away
   * from it (so concurrent failures on one replica skip it once, not once each).
   */
  failed(url: string): void {
    if (this.urls[this.index] === url) this.index = (this.index + 1) % this.urls.length;
  }

  toString(): string {
    return this.urls.join(",");
  }
}
