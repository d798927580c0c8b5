/**
 * Building blocks of the HTTP contract's TypeBox schemas. The bounds are the store's column
 * types, so that a value the server accepts is one both databases can hold: SQLite would
 * take any number, PostgreSQL refuses one beyond its column and the request would fail late.
 */
import { type TSchema, Type } from "@sinclair/typebox";

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Largest value of an `integer` column (row ids, seqs, counts, exit codes). */
export const MAX_INT32 = 2_147_483_647;

/** A whole number an `integer` column holds. */
export const Int32 = (opts: { minimum?: number; maximum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: -MAX_INT32 - 1, maximum: MAX_INT32, ...opts });

/** A whole number >= 0 an `integer` column holds (ids, counts, seqs). */
export const Count = (opts: { minimum?: number; maximum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: 0, maximum: MAX_INT32, ...opts });

/** Epoch milliseconds and byte sizes: `bigint` columns, exact in a JS number. */
export const Big = (opts: { minimum?: number; maximum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...opts });

/** A finite amount (prices, sizes in MiB, percentages): `double precision` columns. */
export const Amount = (opts: { minimum?: number; maximum?: number; exclusiveMinimum?: number; description?: string } = {}) =>
  Type.Number({ minimum: 0, maximum: 1e15, ...opts });
