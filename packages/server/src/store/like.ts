import { type RawBuilder, sql } from "kysely";

/** `%` and `_` match themselves in a LIKE pattern with `escape '\'`. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `column` contains `text`, any case, on SQLite and PostgreSQL alike. */
export function containsIgnoringCase(column: string, text: string): RawBuilder<boolean> {
  const pattern = `%${likeLiteral(text.toLowerCase())}%`;
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}
