import {
  DeleteQueryNode,
  InsertQueryNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
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
    return node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
