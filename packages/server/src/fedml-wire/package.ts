import { mkdirSync, mkdtempSync, rmSync, writeFileSync, createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { FedmlError, ResultCode, packWorkspace } from "@fedml/core";
import { unzipSync } from "fflate";
import { parse as parseYaml } from "yaml";
import type { ServerContext } from "../context.js";
import type { UserRow } from "../store/users.js";
import { addBlobUser, createUpload, findBlob } from "../store/workspace-blobs.js";
import { makeRoom } from "../workspaces/evict.js";
import { completeUpload, receiveBytes } from "../workspaces/upload.js";

/** What the official client's package zip holds for us. */
export interface UnpackedPackage {
  /** The workspace files (under `<side>-package/fedml/`), by relative path. */
  files: Map<string, Uint8Array>;
  job: string;
  bootstrap: string | null;
  /** The non-reserved top-level keys of the job YAML, from config/fedml_config.yaml. */
  extraKeys: Record<string, unknown>;
}

function refused(message: string): FedmlError {
  return new FedmlError(ResultCode.APP_UPDATE_FAILED, message, 400);
}

const ENTRY = "fedml_job_entry_pack.sh";
const BOOTSTRAP = "fedml_bootstrap_generated.sh";

/** Reads the zip (bounded in what it may unpack to). Pure but for the unzip. */
export function readPackage(zip: Buffer, side: "client" | "server", maxUnpackedBytes: number): UnpackedPackage {
  const root = `${side}-package/fedml/`;
  let unpacked = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, {
      filter: (file) => {
        if (!file.name.startsWith(root) || file.name.endsWith("/")) return false;
        unpacked += file.originalSize;
        if (unpacked > maxUnpackedBytes) throw refused(`the ${side} package unpacks to more than ${maxUnpackedBytes} bytes`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof FedmlError) throw err;
    throw refused(`the ${side} package is not a readable zip: ${(err as Error).message}`);
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of Object.entries(entries)) {
    const rel = name.slice(root.length);
    const safe = normalize(rel);
    if (safe.startsWith("..") || safe.startsWith("/") || safe.includes("\\") || safe.includes("\u0000")) {
      throw refused(`the ${side} package holds an unsafe path: ${name}`);
    }
    files.set(safe, bytes);
  }
  const job = files.get(ENTRY);
  if (!job) throw refused(`the ${side} package has no ${root}${ENTRY}`);
  const bootstrap = files.get(BOOTSTRAP);
  const config = files.get("config/fedml_config.yaml");
  let extraKeys: Record<string, unknown> = {};
  if (config) {
    const parsed = parseYaml(Buffer.from(config).toString("utf8"), { maxAliasCount: 100 }) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) extraKeys = parsed as Record<string, unknown>;
  }
  const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
  return { files, job: text(job), bootstrap: bootstrap ? text(bootstrap) : null, extraKeys };
}

/**
 * The package's workspace as one of the user's workspace blobs, packed by the same packer
 * and stored through the same upload steps as a workspace our CLI uploads. Answers its sha256.
 */
export async function storePackageWorkspace(ctx: ServerContext, user: UserRow, pkg: UnpackedPackage): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "fedml-wire-"));
  try {
    const ws = join(dir, "fedml");
    mkdirSync(ws);
    for (const [rel, bytes] of pkg.files) {
      mkdirSync(dirname(join(ws, rel)), { recursive: true });
      writeFileSync(join(ws, rel), bytes);
    }
    const packed = await packWorkspace(ws, { maxBytes: ctx.options.maxWorkspaceBytes, outFile: join(dir, "ws.tar.gz") });
    const limits = {
      maxWorkspaceBytes: ctx.options.maxWorkspaceBytes,
      workspaceStoreBytes: ctx.options.workspaceStoreBytes,
      userWorkspaceBytes: ctx.options.userWorkspaceBytes,
    };
    await makeRoom(ctx.db, ctx.blobs, limits, user.id, packed.size, packed.sha256);
    const held = await findBlob(ctx.db, packed.sha256);
    if (held && !held.corrupt) {
      await addBlobUser(ctx.db, packed.sha256, user.id, ctx.now());
      return packed.sha256;
    }
    const upload = await createUpload(ctx.db, packed.sha256, user.id, packed.size, ctx.now());
    try {
      await receiveBytes(ctx.db, ctx.blobs, upload, 0, createReadStream(packed.file), ctx.options.maxWorkspaceBytes, ctx.now);
    } catch (err) {
      await ctx.blobs.drop(ctx.db, upload.id);
      throw err;
    }
    await completeUpload(ctx.db, ctx.blobs, { ...upload, size: packed.size }, ctx.now());
    return packed.sha256;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
