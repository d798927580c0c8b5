import { existsSync } from "node:fs";
import { type Browser, type Page, chromium } from "playwright-core";

/** Debian's chromium (`apt-get install chromium`), or FEDML_CHROMIUM. */
export function chromiumPath(): string | null {
  const candidates = [process.env.FEDML_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

/**
 * Why the browser tests cannot run here, or false when they can. With FEDML_REQUIRE_BROWSER
 * set (CI sets it) a missing chromium is a failure, never a silent skip.
 */
export function browserUnavailable(): string | false {
  if (chromiumPath()) return false;
  const why = "chromium not installed (apt-get install -y chromium, or set FEDML_CHROMIUM): browser tests skipped";
  if (process.env.FEDML_REQUIRE_BROWSER) throw new Error(`FEDML_REQUIRE_BROWSER is set but ${why.split(":")[0]}`);
  console.log(`# ${why}`);
  return why;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("chromium not installed");
  // --no-sandbox: the tests run as root in CI, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
}

/** Signs in through the page's form, as a person would; resolves once the dashboard shows. */
export async function signIn(page: Page, serverUrl: string, apiKey: string, path = "/"): Promise<void> {
  await page.goto(`${serverUrl}${path}`);
  await page.fill("#api-key", apiKey);
  await page.click("form[aria-label='Sign in'] button[type=submit]");
  await page.waitForSelector("header.topbar");
}

/** A data call from inside the page (the session cookie, as the dashboard's own calls): status and body. */
export async function fetchInPage(page: Page, path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  return page.evaluate(
    async ({ path, init }) => {
      const res = await fetch(path, { ...init, credentials: "same-origin" });
      return { status: res.status, body: await res.text() };
    },
    { path, init },
  );
}
