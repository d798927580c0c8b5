/**
 * Section: workspaces at disk speed. A tree of mixed files (incompressible blobs like weights
 * and images, CSV-like text, many small source files) is generated under a temp folder; then,
 * in the same run: `tar czf` and `cp -r` of it (the references), and ours the way a launch
 * and an agent do it: pack (the SDK's pack-or-reuse), upload to a real server (HEAD, then the
 * resumable PATCH), download as a device and unpack (the agent's cache and extraction). Then
 * the same launch again with nothing changed: pack-or-reuse and upload should both find the
 * work done.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { AgentClient } from "../packages/agent/src/client.js";
import { prepareWorkspace } from "../packages/agent/src/runner/workspace.js";
import { type PackedArchive, packOrReuse } from "../packages/fedml/src/workspace/pack-cache.js";
import { uploadWorkspace } from "../packages/fedml/src/workspace/upload.js";
import { createUser, startServer } from "../test/support/processes.js";
import { registerFake } from "./lib/fake-agent.js";
import { call } from "./lib/http.js";
import { cpuSeconds } from "./lib/proc.js";
import { nowMs } from "./lib/stats.js";

export interface WorkspaceResult {
  totalMb: number;
  files: number;
  archiveMb: number;
  tarCzfSec: number;
  tarXzfSec: number;
  cpSec: number;
  packSec: number;
  uploadSec: number;
  /** Download as the device, verify and extract. */
  unpackSec: number;
  firstTotalSec: number;
  /**
   * CPU seconds (user + system) of each step, ours counting the server's too, the references'
   * their own: far steadier than wall time on a shared machine.
   */
  cpuSec?: { tarCzf: number; tarXzf: number; pack: number; upload: number; unpack: number };
  /** Pack-or-reuse and upload again, nothing changed, ms. */
  unchangedMs: number;
  /** The same, CPU ms of the client and the server. */
  unchangedCpuMs?: number;
  unchangedRepeats: number;
  loadAverage: number[];
}

const MiB = 1024 * 1024;

/** Deterministic text that compresses about as CSV does (digits, separators, repeats). */
function csvText(bytes: number, seed: number): string {
  const rows: string[] = [];
  let size = 0;
  let x = seed;
  while (size < bytes) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const row = `${x % 100000},${(x % 977) / 10},${x % 13 === 0 ? "train" : "eval"},${(x >> 7) % 65536},label_${x % 31}\n`;
    rows.push(row);
    size += row.length;
  }
  return rows.join("");
}

/** ~`totalMb` of mixed files: 40% random blobs, 45% CSV text, 15% small source files. */
export function generateTree(dir: string, totalMb: number): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const put = (path: string, data: string | Buffer) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, data);
    files++;
    bytes += typeof data === "string" ? Buffer.byteLength(data) : data.length;
  };
  const blobBytes = 4 * MiB;
  for (let i = 0; bytes < totalMb * MiB * 0.4; i++) put(join(dir, "weights", `shard-${i}.bin`), randomBytes(blobBytes));
  for (let i = 0; bytes < totalMb * MiB * 0.85; i++) put(join(dir, "data", `part-${i}.csv`), csvText(2 * MiB, i + 1));
  for (let i = 0; bytes < totalMb * MiB; i++) {
    const body = `// module ${i}\n${csvText(6 * 1024, i + 7).replace(/,/g, " + ")}`;
    put(join(dir, "src", `pkg${i % 40}`, `mod_${i}.ts`), body);
  }
  // Written a minute ago, as a workspace is before a launch (pack-cache trusts mtimes older than 2 s).
  const past = new Date(Date.now() - 60_000);
  for (const sub of ["weights", "data"]) {
    for (let i = 0; ; i++) {
      const file = join(dir, sub, sub === "weights" ? `shard-${i}.bin` : `part-${i}.csv`);
      try {
        utimesSync(file, past, past);
      } catch {
        break;
      }
    }
  }
  execFileSync("find", [
    join(dir, "src"),
    "-type",
    "f",
    "-exec",
    "touch",
    "-d",
    "@" + String(Math.floor(past.getTime() / 1000)),
    "{}",
    "+",
  ]);
  return { files, bytes };
}

/** CPU seconds of this process, of its children waited for (the `tar`s), and of the server. */
function cpuNow(serverPid: number): { self: number; children: number; server: number } {
  const self = process.cpuUsage();
  return {
    self: (self.user + self.system) / 1e6,
    children: cpuSeconds(process.pid).children,
    server: cpuSeconds(serverPid).self,
  };
}

/** Wall seconds and CPU seconds of one step: a reference's own, or ours with the server's. */
async function timed(serverPid: number, fn: () => unknown): Promise<{ sec: number; cpu: number; serverCpu: number }> {
  const c0 = cpuNow(serverPid);
  const t0 = nowMs();
  await fn();
  const sec = (nowMs() - t0) / 1000;
  const c1 = cpuNow(serverPid);
  const serverCpu = c1.server - c0.server;
  return { sec, cpu: c1.self - c0.self + (c1.children - c0.children) + serverCpu, serverCpu };
}

export async function workspace(totalMb: number, log: (s: string) => void): Promise<WorkspaceResult> {
  const root = mkdtempSync(join(tmpdir(), "fedml-bench-ws-"));
  const tree = join(root, "tree");
  const server = await startServer(join(root, "server"), {
    extraArgs: ["--log-level", "warn", "--max-workspace-bytes", String(totalMb * 2 * MiB)],
  });
  try {
    log(`  generating ${totalMb} MB of mixed files`);
    const { files, bytes } = generateTree(tree, totalMb);
    // Page cache warm for everyone alike: each reads the tree once first.
    execFileSync("tar", ["cf", "/dev/null", "-C", tree, "."]);
    const serverPid = server.child.pid ?? 0;
    const tarCzf = await timed(serverPid, () => execFileSync("tar", ["czf", join(root, "ref.tar.gz"), "-C", tree, "."]));
    mkdirSync(join(root, "ref-x"));
    const tarXzf = await timed(serverPid, () =>
      execFileSync("tar", ["xzf", join(root, "ref.tar.gz"), "-C", join(root, "ref-x")]),
    );
    const cp = await timed(serverPid, () => execFileSync("cp", ["-r", tree, join(root, "ref-cp")]));
    rmSync(join(root, "ref-x"), { recursive: true, force: true });
    rmSync(join(root, "ref-cp"), { recursive: true, force: true });

    const apiKey = await createUser(server, "bench");
    const endpoint = { serverUrl: server.url, apiKey };
    const fedmlHome = join(root, "client-home");
    const maxBytes = totalMb * 2 * MiB;
    log("  ours: pack, upload, download + unpack as a device");
    let archive: PackedArchive | undefined;
    const pack = await timed(serverPid, async () => {
      archive = await packOrReuse(tree, fedmlHome, maxBytes);
    });
    if (!archive) throw new Error("nothing packed");
    const packed = archive;
    const upload = await timed(serverPid, () => uploadWorkspace(endpoint, packed));
    const device = await registerFake(server.url, apiKey, "ws-sink");
    const client = new AgentClient({ serverUrl: server.url, deviceToken: device.token });
    // A device may fetch a workspace only for a run it was given.
    const launched = await call<{ resultCode: number; resultMsg: string }>(`${server.url}/api/v1/runs`, apiKey, "POST", {
      yamlText: 'workspace: .\njob: "true"\n',
      workspaceSha256: packed.sha256,
    });
    if (launched.resultCode !== 0) throw new Error(`launch: ${launched.resultCode} ${launched.resultMsg}`);
    const unpack = await timed(serverPid, () =>
      prepareWorkspace(join(root, "agent-home"), join(root, "run-1"), packed.sha256, (sha) => client.openWorkspace(sha)),
    );
    log(
      `  wall s: tar czf ${tarCzf.sec.toFixed(1)}, pack ${pack.sec.toFixed(1)}, upload ${upload.sec.toFixed(1)}, unpack ${unpack.sec.toFixed(1)}; ` +
        `CPU s: tar czf ${tarCzf.cpu.toFixed(1)}, tar xzf ${tarXzf.cpu.toFixed(1)}, pack ${pack.cpu.toFixed(1)}, upload ${upload.cpu.toFixed(1)} (server ${upload.serverCpu.toFixed(1)}), unpack ${unpack.cpu.toFixed(1)} (server ${unpack.serverCpu.toFixed(1)})`,
    );
    log("  ours again, nothing changed");
    const unchanged: number[] = [];
    const unchangedCpu: number[] = [];
    for (let i = 0; i < 9; i++) {
      const again = await timed(serverPid, async () => {
        const reused = await packOrReuse(tree, fedmlHome, maxBytes);
        const answer = await uploadWorkspace(endpoint, reused);
        if (!reused.reused || !answer.present) throw new Error("an unchanged workspace was packed or uploaded again");
      });
      unchanged.push(again.sec * 1000);
      unchangedCpu.push(again.cpu * 1000);
    }
    unchanged.sort((a, b) => a - b);
    unchangedCpu.sort((a, b) => a - b);
    return {
      totalMb: bytes / MiB,
      files,
      archiveMb: statSync(packed.file).size / MiB,
      tarCzfSec: tarCzf.sec,
      tarXzfSec: tarXzf.sec,
      cpSec: cp.sec,
      packSec: pack.sec,
      uploadSec: upload.sec,
      unpackSec: unpack.sec,
      firstTotalSec: pack.sec + upload.sec + unpack.sec,
      cpuSec: { tarCzf: tarCzf.cpu, tarXzf: tarXzf.cpu, pack: pack.cpu, upload: upload.cpu, unpack: unpack.cpu },
      unchangedMs: unchanged[Math.floor(unchanged.length / 2)],
      unchangedCpuMs: unchangedCpu[Math.floor(unchangedCpu.length / 2)],
      unchangedRepeats: unchanged.length,
      loadAverage: loadavg().map((v) => Math.round(v * 10) / 10),
    };
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
