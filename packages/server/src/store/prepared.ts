/**
 * Statements built and compiled once per database and shape, then run with each call's
 * values. Building a query (kysely's operation tree, frozen node by node) and compiling it
 * cost about as much as SQLite running a point query, and the per-job statements (a run and
 * its part inserted, their status updates, a run read back, a device by token) have the same
 * shape every time.
 *
 * A call's arguments are values, lists of values and plain objects of values (a row to
 * insert, the columns an update sets). What shapes the SQL is what they hold, not what they
 * are: which columns an object names and how long a list is. So each call's arguments are
 * split into that shape (the cache key) and a flat list of values, and the query is built
 * once per shape from arguments whose every value is a placeholder. A build must use its
 * arguments only as values (operands, set or inserted values), never to choose the query's
 * form (no `if (value)`, no `is` with a value that may be null).
 *
 * The database's plugins (store/write-faults.ts in tests) see every run of a statement, as
 * they would a query built per call: the compiled query is built without them, and each run
 * passes its operation tree through them first.
 */
import {
  type Compilable,
  type CompiledQuery,
  type Kysely,
  type QueryResult,
  type RootOperationNode,
  createQueryId,
} from "kysely";
import { perDatabase } from "./per-database.js";
import type { Database } from "./schema.js";

/** Stands for the call's i-th value while the statement is compiled. */
class Slot {
  constructor(readonly index: number) {}
}

/** More shapes than any statement of ours has; past it, a shape is compiled for its one call. */
const MAX_SHAPES_PER_STATEMENT = 64;

interface Template {
  /** The shape: which columns each object names, each list's length; null: not a shape of values. */
  key: string | null;
  values: unknown[];
  /** The arguments with every value a Slot into `values`. */
  slotted: unknown[];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** Objects the drivers bind as values. */
const isValueObject = (value: object): boolean => value instanceof Date || value instanceof Uint8Array;

function templateOf(args: readonly unknown[]): Template {
  const values: unknown[] = [];
  let key = "";
  let opaque = false;
  const slot = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      key += `[${value.length}`;
      const slotted = value.map(slot);
      key += "]";
      return slotted;
    }
    if (isPlainObject(value)) {
      key += "{";
      const slotted: Record<string, unknown> = {};
      for (const name in value) {
        // kysely leaves out a column whose value is undefined: so does the shape.
        if (value[name] === undefined) continue;
        key += `${name},`;
        slotted[name] = slot(value[name]);
      }
      key += "}";
      return slotted;
    }
    if (value === undefined) {
      key += "u";
      return undefined;
    }
    // An expression (sql`…`, a callback) is part of the statement, not a value: such a call is
    // built as it comes.
    if (typeof value === "function" || (typeof value === "object" && value !== null && !isValueObject(value))) {
      opaque = true;
    }
    key += "v";
    values.push(value);
    return new Slot(values.length - 1);
  };
  const slotted = args.map((arg) => {
    const s = slot(arg);
    key += ";";
    return s;
  });
  return { key: opaque ? null : key, values, slotted };
}

const fill = (parameters: readonly unknown[], values: readonly unknown[]): unknown[] =>
  parameters.map((p) => (p instanceof Slot ? values[p.index] : p));

/**
 * `build` receives the database (without its plugins) and the call's arguments with every
 * value a placeholder; it may branch on the database's dialect. The compiled forms are kept
 * per database.
 */
export function prepared<A extends unknown[], R>(
  build: (db: Kysely<Database>, ...args: A) => Compilable<R>,
): (db: Kysely<Database>, ...args: A) => Promise<QueryResult<R>> {
  const shapes = perDatabase(() => new Map<string, CompiledQuery<R>>());
  return async (db, ...args) => {
    const { key, values, slotted } = templateOf(args);
    if (key === null) return db.executeQuery(build(db, ...args));
    const compiledShapes = shapes(db);
    let compiled = compiledShapes.get(key);
    if (compiled === undefined) {
      compiled = build(db.withoutPlugins(), ...(slotted as A)).compile();
      if (compiledShapes.size < MAX_SHAPES_PER_STATEMENT) compiledShapes.set(key, compiled);
    }
    const executor = db.getExecutor();
    const queryId = createQueryId();
    let query = compiled;
    if (executor.plugins.length > 0) {
      const node = executor.transformQuery(compiled.query as RootOperationNode, queryId);
      // A plugin that rewrites the statement gets it compiled anew, as a built query would.
      if (node !== compiled.query) query = executor.compileQuery(node, queryId) as CompiledQuery<R>;
    }
    return db.executeQuery<R>({ ...query, parameters: fill(query.parameters, values), queryId });
  };
}

/** prepared, for a read: its rows. */
export function preparedRead<A extends unknown[], R>(
  build: (db: Kysely<Database>, ...args: A) => Compilable<R>,
): (db: Kysely<Database>, ...args: A) => Promise<R[]> {
  const statement = prepared(build);
  return async (db, ...args) => (await statement(db, ...args)).rows;
}
