/** The commander program as plain data: what shell completion and the API reference are generated from. */
import type { Command, Option } from "commander";

export interface OptionNode {
  flags: string;
  long: string | null;
  short: string | null;
  description: string;
  takesValue: boolean;
  defaultValue: unknown;
}

export interface ArgumentNode {
  name: string;
  required: boolean;
  description: string;
}

export interface CommandNode {
  /** Words from the root, e.g. ["run", "logs"]. */
  path: string[];
  description: string;
  arguments: ArgumentNode[];
  options: OptionNode[];
  subcommands: CommandNode[];
}

function optionNode(option: Option): OptionNode {
  return {
    flags: option.flags,
    long: option.long ?? null,
    short: option.short ?? null,
    description: option.description,
    takesValue: option.required || option.optional,
    defaultValue: option.defaultValue,
  };
}

/** Pure: reads the program's registered commands; hidden ones and `help` are left out. */
export function commandTree(command: Command, path: string[] = []): CommandNode {
  const internal = command as unknown as { _hidden?: boolean };
  return {
    path,
    description: command.description(),
    arguments: command.registeredArguments.map((a) => ({ name: a.name(), required: a.required, description: a.description })),
    options: command.options.filter((o) => !o.hidden).map(optionNode),
    subcommands: command.commands
      .filter((c) => !(c as unknown as typeof internal)._hidden && c.name() !== "help")
      .map((c) => commandTree(c, [...path, c.name()])),
  };
}

/** Every command of the tree, depth first. */
export function flattenCommands(node: CommandNode): CommandNode[] {
  return [node, ...node.subcommands.flatMap(flattenCommands)];
}
