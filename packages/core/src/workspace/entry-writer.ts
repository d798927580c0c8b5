import { closeSync, futimesSync, linkSync, mkdirSync, openSync, symlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ReadEntry } from "tar";

/**
 * Writes checked archive entries into a folder that was empty, with plain synchronous calls:
 * a file costs open, its writes, futimes and close, where node-tar's Unpack also makes and
 * lstats every parent folder of every file (and goes through the thread pool for each call).
 * That is safe here only because of what the caller guarantees: every entry was checked
 * (archive-safety.ts) before it reaches `write`, against every symlink written before it, so
 * no path written goes through a symlink; and the folder started empty, so everything in it
 * came from those entries. Files are created exclusively (`wx`), never opened through an
 * existing name. Each write is one chunk of the archive, so the event loop is never held long.
 */
export class EntryWriter {
  private readonly folders = new Set<string>();

  constructor(private readonly root: string) {
    this.folders.add(root);
  }

  /** Writes the entry (its body as it streams); `fail` hears of any error, once. */
  write(entry: ReadEntry, fail: (err: unknown) => void): void {
    const abs = join(this.root, ...entry.path.split(/[\\/]+/).filter((s) => s !== "" && s !== "."));
    try {
      switch (entry.type) {
        case "Directory":
          if (abs !== this.root) this.makeFolder(abs, entry.mode);
          entry.resume();
          return;
        case "File":
        case "OldFile":
        case "ContiguousFile":
          this.makeFolder(dirname(abs));
          this.writeFile(abs, entry, fail);
          return;
        case "SymbolicLink":
          this.makeFolder(dirname(abs));
          symlinkSync(entry.linkpath ?? "", abs);
          entry.resume();
          return;
        case "Link":
          this.makeFolder(dirname(abs));
          linkSync(join(this.root, ...(entry.linkpath ?? "").split(/[\\/]+/).filter((s) => s !== "" && s !== ".")), abs);
          entry.resume();
          return;
        default:
          throw new Error(`entry '${entry.path}' has unsupported type ${entry.type}`);
      }
    } catch (err) {
      entry.resume();
      fail(err);
    }
  }

  private makeFolder(abs: string, mode?: number): void {
    if (this.folders.has(abs)) return;
    mkdirSync(abs, { recursive: true, mode: mode === undefined ? 0o777 : (mode & 0o7777) | 0o700 });
    for (let dir = abs; !this.folders.has(dir); dir = dirname(dir)) this.folders.add(dir);
  }

  private writeFile(abs: string, entry: ReadEntry, fail: (err: unknown) => void): void {
    const fd = openSync(abs, "wx", (entry.mode ?? 0o644) & 0o7777);
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    };
    entry.on("data", (chunk: Buffer) => {
      if (!open) return;
      try {
        for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
      } catch (err) {
        close();
        fail(err);
      }
    });
    entry.on("end", () => {
      if (!open) return;
      try {
        // The archive's times (fixed by the packer), as tar and node-tar set them.
        if (entry.mtime) futimesSync(fd, entry.atime ?? entry.mtime, entry.mtime);
        close();
      } catch (err) {
        close();
        fail(err);
      }
    });
  }
}
