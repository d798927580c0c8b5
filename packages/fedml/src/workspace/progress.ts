/**
 * Progress of packing and uploading a workspace, drawn on one terminal line: a bar, bytes
 * and speed, redrawn at most ten times a second, then a summary line.
 */
export type WorkspaceProgress =
  | { kind: "pack"; bytes: number; total: number }
  | { kind: "packed"; bytes: number; ms: number; reused: boolean }
  | { kind: "upload"; bytes: number; total: number; from: number }
  | { kind: "uploaded"; sent: number; total: number; ms: number; from: number; present: boolean };

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const rate = (bytes: number, ms: number) => (((bytes / MB) * 1000) / Math.max(ms, 1)).toFixed(1);

export function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}]`;
}

/** A renderer for a TTY stream (the CLI passes process.stdout when it is one). */
export function progressLine(out: NodeJS.WriteStream, now: () => number = Date.now): (p: WorkspaceProgress) => void {
  let startedAt = now();
  let drawnAt = Number.NEGATIVE_INFINITY;
  let phase = "";
  const draw = (text: string) => out.write(`\r\x1b[K${text}`);
  return (p) => {
    if (p.kind === "pack" || p.kind === "upload") {
      if (phase !== p.kind) {
        phase = p.kind;
        startedAt = now();
        drawnAt = Number.NEGATIVE_INFINITY;
      }
      const t = now();
      if (t - drawnAt < 100 && p.bytes < p.total) return;
      drawnAt = t;
      const moved = p.kind === "upload" ? p.bytes - p.from : p.bytes;
      const label = p.kind === "pack" ? "packing  " : "uploading";
      draw(`${label} ${bar(p.bytes / p.total)} ${mb(p.bytes)} / ${mb(p.total)}  ${rate(moved, t - startedAt)} MB/s`);
      return;
    }
    phase = "";
    if (p.kind === "packed") {
      draw(
        p.reused
          ? `workspace unchanged since the last launch: reusing its archive (${mb(p.bytes)})\n`
          : `packed the workspace: ${mb(p.bytes)} in ${(p.ms / 1000).toFixed(1)} s\n`,
      );
      return;
    }
    if (p.present) draw(`the server has this workspace already: nothing to upload\n`);
    else {
      const resumed = p.from > 0 ? `, resumed at ${mb(p.from)}` : "";
      draw(`uploaded the workspace: ${mb(p.sent)} in ${(p.ms / 1000).toFixed(1)} s, ${rate(p.sent, p.ms)} MB/s${resumed}\n`);
    }
  };
}
