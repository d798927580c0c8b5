// Generates docs/api-reference.md from the code itself, so that it stays true: the SDK's
// functions (signatures, options, return fields and the doc comments on them, read with the
// TypeScript compiler), every CLI command (walked from the commander program) and the result
// codes. Usage: npm run docs:api (writes the file); test/docs.test.ts fails when it is stale.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { ResultCode, ResultMessage } from "../../packages/core/src/codes.js";
import { type CommandNode, commandTree, flattenCommands } from "../../packages/fedml/src/cli/command-tree.js";
import { buildProgram } from "../../packages/fedml/src/cli/program.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const referencePath = join(repoRoot, "docs", "api-reference.md");
const sdkIndex = join(repoRoot, "packages/fedml/src/api/index.ts");

interface SdkFunction {
  name: string;
  file: string;
  params: { name: string; type: string; optional: boolean; doc: string }[];
  options: { name: string; type: string; doc: string }[];
  returns: string;
  returnDoc: string;
  returnFields: { name: string; type: string }[];
  throws: string[];
  doc: string;
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim();
const cell = (text: string) => oneLine(text).replace(/\|/g, "\\|");

function readSdk(): SdkFunction[] {
  const program = ts.createProgram([sdkIndex], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(sdkIndex);
  if (!source) throw new Error(`cannot read ${sdkIndex}`);
  let literal: ts.ObjectLiteralExpression | undefined;
  source.forEachChild((node) => {
    if (!ts.isVariableStatement(node)) return;
    for (const decl of node.declarationList.declarations) {
      if (decl.name.getText(source) !== "api" || !decl.initializer) continue;
      const init = ts.isAsExpression(decl.initializer) ? decl.initializer.expression : decl.initializer;
      if (ts.isObjectLiteralExpression(init)) literal = init;
    }
  });
  if (!literal) throw new Error("no `export const api = {...}` in the SDK's index");
  const typeText = (type: ts.Type) =>
    checker.typeToString(
      type,
      undefined,
      ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope,
    );
  return literal.properties.map((property) => {
    if (!ts.isShorthandPropertyAssignment(property)) throw new Error(`api.${property.getText(source)} must be a plain name`);
    let symbol = checker.getShorthandAssignmentValueSymbol(property);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const declaration = symbol?.declarations?.find(ts.isFunctionDeclaration);
    if (!symbol || !declaration) throw new Error(`api.${property.name.text} is not a function declaration`);
    const signature = checker.getSignatureFromDeclaration(declaration);
    if (!signature) throw new Error(`no signature for ${property.name.text}`);
    const tags = symbol.getJsDocTags(checker);
    const tagText = (tag: ts.JSDocTagInfo) => ts.displayPartsToString(tag.text);
    const paramDocs = new Map(
      tags
        .filter((t) => t.name === "param")
        .map((t) => {
          const [name, ...rest] = tagText(t).split(" ");
          return [name, rest.join(" ")];
        }),
    );
    const params = declaration.parameters.map((p) => ({
      name: p.name.getText(),
      type: p.type ? p.type.getText() : typeText(checker.getTypeAtLocation(p)),
      optional: p.questionToken !== undefined || p.initializer !== undefined,
      doc: paramDocs.get(p.name.getText()) ?? "",
    }));
    // The trailing options object: every field it takes, its own and inherited (apiKey, serverUrl).
    const last = declaration.parameters[declaration.parameters.length - 1];
    const optionsType = last && /Options$/.test(last.type?.getText() ?? "") ? checker.getTypeAtLocation(last) : null;
    const options = (optionsType?.getProperties() ?? []).map((prop) => ({
      name: prop.name,
      type: typeText(checker.getTypeOfSymbolAtLocation(prop, declaration)).replace(/ \| undefined$/, ""),
      doc: ts.displayPartsToString(prop.getDocumentationComment(checker)),
    }));
    let returned = signature.getReturnType();
    const awaited = checker.getAwaitedType(returned);
    if (awaited) returned = awaited;
    const returnFields =
      returned.flags & ts.TypeFlags.Object && !checker.isArrayType(returned)
        ? returned.getProperties().map((prop) => ({
            name: prop.name,
            type: typeText(checker.getTypeOfSymbolAtLocation(prop, declaration)),
          }))
        : [];
    return {
      name: property.name.text,
      file: declaration.getSourceFile().fileName.replace(repoRoot, ""),
      params,
      options,
      returns: typeText(signature.getReturnType()),
      returnDoc: tags
        .filter((t) => t.name === "returns")
        .map(tagText)
        .join(" "),
      returnFields,
      throws: tags.filter((t) => t.name === "throws").map(tagText),
      doc: ts.displayPartsToString(symbol.getDocumentationComment(checker)),
    };
  });
}

function renderSdk(functions: SdkFunction[]): string {
  const out: string[] = [];
  for (const f of functions) {
    const signature = `${f.name}(${f.params.map((p) => `${p.name}${p.optional ? "?" : ""}`).join(", ")})`;
    out.push(`### \`api.${signature}\``, "");
    // The original's Python signature, where a function has one, is kept as a code block.
    out.push(f.doc.trim(), "");
    out.push(`Source: \`${f.file}\`. Returns \`${f.returns}\`.${f.returnDoc ? ` ${oneLine(f.returnDoc)}` : ""}`, "");
    const args = f.params.filter((p) => !/Options$/.test(p.type));
    if (args.length > 0) {
      out.push("| argument | type | |", "|---|---|---|");
      for (const p of args)
        out.push(`| \`${p.name}\`${p.optional ? " (optional)" : ""} | \`${cell(p.type)}\` | ${cell(p.doc)} |`);
      out.push("");
    }
    if (f.options.length > 0) {
      out.push("| option | type | |", "|---|---|---|");
      for (const o of f.options) out.push(`| \`${o.name}\` | \`${cell(o.type)}\` | ${cell(o.doc)} |`);
      out.push("");
    }
    if (f.returnFields.length > 0) {
      out.push(`Return fields: ${f.returnFields.map((r) => `\`${r.name}\` (\`${cell(r.type)}\`)`).join(", ")}.`, "");
    }
    if (f.throws.length > 0) out.push(`Throws: ${f.throws.map(oneLine).join("; ")}.`, "");
  }
  return out.join("\n");
}

function usage(node: CommandNode): string {
  const args = node.arguments.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`));
  return ["fedml", ...node.path, ...(node.subcommands.length > 0 && node.path.length > 0 ? ["COMMAND"] : []), ...args].join(" ");
}

function renderCli(root: CommandNode): string {
  const out: string[] = [];
  const globals = root.options;
  out.push("Options every command takes:", "", "| option | |", "|---|---|");
  for (const o of globals) out.push(`| \`${o.flags}\` | ${cell(o.description)} |`);
  out.push("");
  for (const node of flattenCommands(root).slice(1)) {
    out.push(`### \`${usage(node)}\``, "", cell(node.description), "");
    if (node.arguments.length > 0) {
      out.push("| argument | |", "|---|---|");
      for (const a of node.arguments) out.push(`| \`${a.name}\`${a.required ? "" : " (optional)"} | ${cell(a.description)} |`);
      out.push("");
    }
    if (node.options.length > 0) {
      out.push("| option | | default |", "|---|---|---|");
      for (const o of node.options) {
        const fallback = o.defaultValue === undefined ? "" : `\`${JSON.stringify(o.defaultValue)}\``;
        out.push(`| \`${o.flags}\` | ${cell(o.description)} | ${fallback} |`);
      }
      out.push("");
    }
    if (node.subcommands.length > 0) {
      out.push(`Commands: ${node.subcommands.map((s) => `\`${s.path[s.path.length - 1]}\``).join(", ")}.`, "");
    }
  }
  return out.join("\n");
}

function renderCodes(): string {
  const rows = Object.entries(ResultCode).map(([name, code]) => `| ${code} | \`${name}\` | \`${ResultMessage[code]}\` |`);
  return ["| code | name | message |", "|---|---|---|", ...rows].join("\n");
}

export function renderApiReference(): string {
  const root = commandTree(buildProgram());
  return `# API reference

Generated from the code by \`npm run docs:api\` (\`scripts/api-reference/generate.ts\`); a test
fails when this file and the code disagree, so edit the doc comments and command descriptions,
not this file. The HTTP API behind both is described by the server itself at
\`GET /api/v1/openapi.json\`.

- [SDK](#sdk): \`import { api } from "fedml"\`
- [CLI](#cli): \`fedml ...\`
- [Exit codes](#exit-codes)
- [Result codes](#result-codes)

## SDK

Every function takes, as its last argument, an options object that also accepts \`apiKey\` and
\`serverUrl\` (otherwise \`FEDML_API_KEY\`/\`FEDML_SERVER_URL\`, then \`fedml login\`'s
\`config.json\`, then the embedded default). Failures are thrown as \`FedmlError\` with
\`.resultCode\`, except \`launchJob\`/\`launchJobOnCluster\`, which answer them in the
\`LaunchResult\`.

${renderSdk(readSdk())}
## CLI

Every command takes \`--json\` and then prints exactly what the SDK returns; a failure under
\`--json\` prints \`{"resultCode": N, "message": "..."}\` on stdout instead of the one-line
\`error: ... (code N NAME)\` on stderr, with the same exit code.

${renderCli(root)}
## Exit codes

| command | exit code |
|---|---|
| any command that fails | 1 (the one-line error names the result code) |
| \`fedml launch\` (following), \`fedml run logs -f\` | the run's: 0 when FINISHED; when FAILED, the exit code of the node that failed (for a multi-node or federated run, the first node whose part FAILED, else the first with a non-zero code), or 1 when no node reported one (a lost device, a workspace error); 143 when the run was stopped (KILLED); 130 when you interrupt the CLI (the run keeps running) |
| \`fedml launch --detach\`, \`--dry-run\` | 0 once accepted (\`--dry-run\`: 0 when it would run or queue) |
| \`fedml run stop\` | 0 when the run was stopped, 1 when it had already ended |
| \`fedml server status\` | 0 when the local server runs, 3 when it does not |

## Result codes

What each code means here: [result-codes.md](result-codes.md).

${renderCodes()}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(referencePath, renderApiReference());
  process.stdout.write(`wrote ${referencePath}\n`);
}
