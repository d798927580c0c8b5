/**
 * The job's working folder. Workspace archives are cached by sha256 under `<home>/cache/`
 * (downloaded once, shared by runs) and extracted into `<run>/workspace/`.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FedmlError, ResultCode } from "@fedml/core/contract";

// The packer/extractor (and `tar`) load on the first run with a workspace, not in every idle agent.
const workspaceTools = () => import("@fedml/core");

export type DownloadWorkspace = (sha256: string, file: string) => Promise<void>;

/** Downloads serialise per sha so that two runs of one workspace fetch it once. */
const inFlight = new Map<string, Promise<string>>();

export function cachedWorkspace(home: string, sha256: string, download: DownloadWorkspace): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    return Promise.reject(new FedmlError(ResultCode.ERROR, `workspace id "${sha256}" is not a sha256`));
  }
  const key = `${home}\0${sha256}`;
  const pending = inFlight.get(key);
  if (pending) return pending;
  const promise = fetchIntoCache(home, sha256, download).finally(() => inFlight.delete(key));
  inFlight.set(key, promise);
  return promise;
}

async function fetchIntoCache(home: string, sha256: string, download: DownloadWorkspace): Promise<string> {
  const cacheDir = join(home, "cache");
  const file = join(cacheDir, `${sha256}.tar.gz`);
  if (existsSync(file)) return file;
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${file}.${process.pid}.part`;
  try {
    await download(sha256, partial);
    const { sha256File } = await workspaceTools();
    const actual = await sha256File(partial);
    if (actual !== sha256) {
      throw new FedmlError(ResultCode.ERROR, `workspace ${sha256} arrived corrupted (its sha256 is ${actual})`);
    }
    renameSync(partial, file);
    return file;
  } finally {
    rmSync(partial, { force: true });
  }
}

/** The job's cwd: the extracted workspace, or an empty folder when the run has none. */
export async function prepareWorkspace(
  home: string,
  runFolder: string,
  sha256: string | null,
  download: DownloadWorkspace,
): Promise<string> {
  const dir = join(runFolder, "workspace");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (sha256) {
    const { extractWorkspace } = await workspaceTools();
    await extractWorkspace(await cachedWorkspace(home, sha256, download), dir);
  }
  return dir;
}
