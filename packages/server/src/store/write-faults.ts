import {
  DeleteQueryNode,
  InsertQueryNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  RawNode,
  type RootOperationNode,
  type UnknownRow,
  UpdateQueryNode,
} from "kysely";

export interface StoreWrite {
  kind: "insert" | "update" | "delete";
  table: string;
}

/** Test-only: called before every insert, update and delete; throwing fails that write. */
export type WriteFaultHook = (write: StoreWrite) => void;

/** A write written as raw SQL (a set-based statement the builder cannot express): its kind and table. */
function rawWrite(node: RootOperationNode): StoreWrite | null {
  if (!RawNode.is(node)) return null;
  // A statement whose writes are data-modifying CTEs counts as a write to its first CTE's table.
  const found = /^\s*(?:with\s+\w+\s+as\s+\(\s*)?(insert\s+into|update|delete\s+from)\s+"?(\w+)/i.exec(
    node.sqlFragments[0] ?? "",
  );
  if (!found) return null;
  const verb = found[1].toLowerCase();
  return { kind: verb.startsWith("insert") ? "insert" : verb === "update" ? "update" : "delete", table: found[2] };
}

function tableOf(node: RootOperationNode): string {
  const table = InsertQueryNode.is(node)
    ? node.into
    : UpdateQueryNode.is(node)
      ? node.table
      : DeleteQueryNode.is(node)
        ? node.from.froms[0]
        : undefined;
  const named = table as { table?: { identifier?: { name?: string } } } | undefined;
  return named?.table?.identifier?.name ?? "?";
}

/**
 * Lets a test fail any write of a multi-row change, to show that the change lands wholly or
 * not at all. Installed only when a test asks for it (ServerOptions.testHooks), so the
 * server otherwise pays nothing.
 */
export class WriteFaults implements KyselyPlugin {
  constructor(private readonly hook: WriteFaultHook) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const { node } = args;
    const kind = InsertQueryNode.is(node)
      ? "insert"
      : UpdateQueryNode.is(node)
        ? "update"
        : DeleteQueryNode.is(node)
          ? "delete"
          : null;
    if (kind) this.hook({ kind, table: tableOf(node) });
    else {
      const raw = rawWrite(node);
      if (raw) this.hook(raw);
    }
    return node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
