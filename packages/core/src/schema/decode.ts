import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/**
 * A checked reader of JSON text stored by this system (a JSON column, a state file): parses,
 * checks the value against `schema`, and answers it typed, or throws naming `what` and the
 * first place it differs. Stands where `JSON.parse(text) as T` would take the text on trust.
 */
export function jsonDecoder<T extends TSchema>(schema: T, what: string): (text: string) => Static<T> {
  const check = TypeCompiler.Compile(schema);
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new Error(`${what} is not JSON: ${(err as Error).message}`);
    }
    if (!check.Check(value)) {
      const first = check.Errors(value).First();
      throw new Error(`${what} is not what was stored: ${first ? `${first.path || "/"} ${first.message}` : "unexpected shape"}`);
    }
    return value as Static<T>;
  };
}
