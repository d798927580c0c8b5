/**
 * The original FedML CLI's multi-letter short flags (`-rid`) and snake_case long flags
 * (`--run_id`), so that its users' muscle memory and scripts keep working. Commander takes
 * one-letter short flags only, so these are rewritten to our spelling before parsing.
 */
const LEGACY_FLAGS: Readonly<Record<string, string>> = {
  "-rid": "--run-id",
  "--run_id": "--run-id",
  "-pf": "--platform",
  "-pn": "--page",
  "--page_num": "--page",
  "-ps": "--size",
  "--page_size": "--size",
  "--need_all_logs": "--all",
  "--api_key": "--api-key",
};

/** Rewrites the original's flags (also in `--flag=value` form) up to a `--`. Pure. */
export function rewriteLegacyFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  let passThrough = false;
  for (const arg of args) {
    if (passThrough || arg === "--") {
      passThrough = true;
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const ours = LEGACY_FLAGS[name];
    out.push(ours === undefined ? arg : eq > 0 ? `${ours}${arg.slice(eq)}` : ours);
  }
  return out;
}

export const legacyFlagNames = Object.keys(LEGACY_FLAGS);
