import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import type { Db } from "../store/workspace-blobs.js";

export type { Db };

/** Bytes in storage that are missing, cut short or differ from their checksum. */
export class CorruptBlob extends Error {}

/**
 * Where the bytes of workspace uploads are kept. What an upload is, who may use a blob and
 * how much each holds stay in the database whichever store holds the bytes, so every replica
 * on one database sees the same workspaces; the store only has to reach the same bytes from
 * every replica too (the database itself, or one S3-compatible bucket).
 */
export interface BlobStore {
  /** For logs and errors: which store, never any credential. */
  readonly description: string;
  /** An upload commits this many bytes at a time, so a cut connection loses at most this much. */
  readonly chunkBytes: number;
  /** The fewest bytes any piece but an upload's last may hold (S3's multipart minimum). */
  readonly minPieceBytes: number;
  /**
   * Stores `data` at `startByte` of the upload, in step with the upload's `received` (the
   * write counts only while the upload still ends at `startByte`): answers false when another
   * request got there first.
   */
  append(db: Kysely<Database>, uploadId: number, startByte: number, data: Buffer, sha256: string, now: number): Promise<boolean>;
  /** Every byte is in: makes the pieces one readable blob. */
  seal(db: Kysely<Database>, uploadId: number): Promise<void>;
  /**
   * The upload's bytes in order, each piece checked against its sha256 before it is handed on
   * (so changed bytes are never passed along), at most one piece in memory; missing or changed
   * bytes end it with CorruptBlob.
   */
  read(db: Db, uploadId: number, size: number): AsyncGenerator<Buffer>;
  /** Forgets an upload (or a blob's former content): its row and its bytes, within the caller's transaction. */
  drop(db: Db, uploadId: number): Promise<void>;
  /** Frees what dropped uploads left outside the database; answers how many were freed. */
  collect(db: Kysely<Database>): Promise<number>;
  /** Lets go of connections (the server is closing). */
  close(): void;
}
