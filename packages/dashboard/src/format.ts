/** How the dashboard writes times, durations and money: one place, so every page agrees. */

export function formatTime(epochMs: number | null | undefined): string {
  if (!epochMs) return "—";
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 45s, 3m 05s, 2h 04m, 3d 02h. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return "—";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, "0")}h`;
}

/** Dollars: cents when at least a cent, else enough digits to show it is not zero. */
export function formatUsd(amount: number): string {
  if (amount === 0) return "$0.00";
  const digits = Math.abs(amount) >= 0.01 ? 2 : 6;
  return `${amount < 0 ? "-" : ""}$${Math.abs(amount).toFixed(digits)}`;
}

/** "12s ago", "5m ago", "3h ago", "2d ago"; "never" without a time. */
export function formatAgo(epochMs: number | null | undefined, now: number): string {
  if (!epochMs) return "never";
  const s = Math.max(0, Math.round((now - epochMs) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
