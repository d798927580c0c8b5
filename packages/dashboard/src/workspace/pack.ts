import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";
import { gzipSync, unzipSync } from "fflate";
import { type WorkspaceFile, tarOf } from "./tar.js";

export interface PackedWorkspace {
  /** The folder's (or zip's) name: the default job name is `<name>_FedMLLaunchApp`. */
  name: string;
  archive: Uint8Array;
  sha256: string;
  fileCount: number;
}

/** Version-control and dependency folders a workspace never needs (the CLI's .gitignore does the rest). */
const SKIPPED = /(^|\/)(\.git|node_modules|__pycache__)\//;

/**
 * A workspace from a folder picked with `webkitdirectory`: each file's webkitRelativePath
 * starts with the folder's own name, which the archive leaves out (as `fedml launch` packs the
 * folder's contents).
 */
export async function packFolder(files: readonly File[]): Promise<PackedWorkspace> {
  if (files.length === 0) throw new Error("the folder is empty");
  const name = files[0].webkitRelativePath.split("/")[0] || "workspace";
  const entries: WorkspaceFile[] = [];
  for (const file of files) {
    const path = file.webkitRelativePath.split("/").slice(1).join("/") || file.name;
    if (SKIPPED.test(path)) continue;
    entries.push({ path, bytes: new Uint8Array(await file.arrayBuffer()), executable: /\.(sh|bash)$/.test(path) });
  }
  return finish(name, entries);
}

/** A workspace from a zip; one folder holding everything is taken as the workspace folder itself. */
export async function packZip(zip: File): Promise<PackedWorkspace> {
  const unzipped = unzipSync(new Uint8Array(await zip.arrayBuffer()));
  const paths = Object.keys(unzipped).filter((p) => !p.endsWith("/") && !SKIPPED.test(p) && !p.startsWith("__MACOSX/"));
  const tops = new Set(paths.map((p) => p.split("/")[0]));
  const [onlyTop] = tops;
  const strip = tops.size === 1 && paths.every((p) => p.includes("/")) ? `${onlyTop}/` : "";
  for (const p of paths) {
    if (p.startsWith("/") || p.split("/").includes("..")) throw new Error(`unsafe path in the zip: ${p}`);
  }
  const entries = paths.map((p) => ({ path: p.slice(strip.length), bytes: unzipped[p], executable: /\.(sh|bash)$/.test(p) }));
  return finish(strip ? onlyTop : zip.name.replace(/\.zip$/i, ""), entries);
}

function finish(name: string, files: WorkspaceFile[]): PackedWorkspace {
  // mtime 0 in the gzip header too: the archive's hash depends on the files only.
  const archive = gzipSync(tarOf(files), { level: 6, mtime: 0 });
  return { name, archive, sha256: bytesToHex(sha256(archive)), fileCount: files.length };
}
