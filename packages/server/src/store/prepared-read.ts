/**
 * Reads of a fixed shape, built and compiled once per database and then run with each call's
 * values. Building a query (kysely's operation tree, frozen node by node) and compiling it
 * cost about as much as SQLite running a point read, and the per-job reads (a run, its parts,
 * a device by token, a user by key) have the same shape every time. Reads only: writes stay
 * built per call, so that plugins watching each write (store/write-faults.ts) see them all.
 */
import { type CompiledQuery, type Compilable, type Kysely, createQueryId } from "kysely";
import { perDatabase } from "./per-database.js";
import type { Database } from "./schema.js";

/** Stands for the call's i-th value while the read is compiled. */
class Slot {
  constructor(readonly index: number) {}
}

interface Compiled<R> {
  query: CompiledQuery<R>;
  /** Each parameter: a Slot (the call's value) or a constant of the shape. */
  parameters: readonly unknown[];
}

/**
 * `build` receives the database and one placeholder per value (`arity` of them); it must use
 * each placeholder only as a value (a where operand), never to choose the query's shape, and
 * may branch on the database's dialect. The compiled form is kept per database.
 */
export function preparedRead<A extends unknown[], R>(
  arity: number,
  build: (db: Kysely<Database>, ...values: A) => Compilable<R>,
): (db: Kysely<Database>, ...values: A) => Promise<R[]> {
  const compiled = perDatabase((db): Compiled<R> => {
    const slots = Array.from({ length: arity }, (_, i) => new Slot(i)) as unknown as A;
    const query = build(db, ...slots).compile();
    return { query, parameters: query.parameters };
  });
  return async (db, ...values) => {
    const entry = compiled(db);
    const parameters = entry.parameters.map((p) => (p instanceof Slot ? values[p.index] : p));
    const result = await db.executeQuery<R>({ ...entry.query, parameters, queryId: createQueryId() });
    return result.rows;
  };
}
