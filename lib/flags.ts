/**
 * A command line read with `@std/cli`'s parseArgs, refusing what it would let
 * through: on its own it keeps a flag it was not told of, reads `--no-port=5`
 * as `--port=5` and `--tls=no` as on, and gives "" for a flag whose value is
 * missing, so a typo would quietly change a setting. Shared by the server,
 * the terminal client, the bench and the soak; each puts its own prefix on
 * the one-line {@linkcode FlagError}.
 *
 * @module
 */
import { parseArgs } from "@std/cli/parse-args";

/** A command line that cannot be used; its message is one line, without a prefix. */
export class FlagError extends Error {
  override name = "FlagError";
}

/** The flags a program takes. */
export interface FlagSpec<S extends string, B extends string> {
  /** Flags that take a value, given as `--port=4000` or `--port 4000`. */
  readonly values: readonly S[];
  /** Switches, given as `--help`, without a value. */
  readonly switches: readonly B[];
}

/** What a command line gave: the last value of each flag given, and each switch on or off. */
export interface Flags<S extends string, B extends string> {
  readonly values: Partial<Record<S, string>>;
  readonly switches: Record<B, boolean>;
}

/** Reads `args` as `spec` says; throws {@linkcode FlagError} for anything else. */
export function parseFlags<S extends string, B extends string>(
  args: readonly string[],
  spec: FlagSpec<S, B>,
): Flags<S, B> {
  refuseLoose(args, spec);
  // Widened to plain strings: parseArgs's inferred result type does not follow generic names.
  const parsed: { readonly _: unknown[]; readonly [flag: string]: unknown } = parseArgs([...args], {
    string: [...spec.values] as string[],
    boolean: [...spec.switches] as string[],
    unknown: (arg: string, key?: string): never => {
      throw key === undefined ? unexpected(arg) : unknownFlag(arg);
    },
  });
  // What follows `--` lands in `_` without passing through `unknown`.
  const [stray] = parsed._;
  if (stray !== undefined) throw unexpected(String(stray));
  const values: Partial<Record<S, string>> = {};
  for (const flag of spec.values) {
    const value = parsed[flag];
    if (typeof value === "string") values[flag] = value;
  }
  const switches = {} as Record<B, boolean>;
  for (const flag of spec.switches) switches[flag] = parsed[flag] === true;
  return { values, switches };
}

/**
 * {@linkcode parseFlags} for a tool's own command line: what it refuses is one
 * line on stderr, `<tool>: <why> (see --help)`, and exit status 2.
 */
export function parseFlagsOrExit<S extends string, B extends string>(
  tool: string,
  args: readonly string[],
  spec: FlagSpec<S, B>,
): Flags<S, B> {
  try {
    return parseFlags(args, spec);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    console.error(`${tool}: ${error.message} (see --help)`);
    return Deno.exit(2);
  }
}

/**
 * Refuses, before parseArgs reads them, the arguments it would read loosely:
 * any `--no-…` (no flag here is negatable), a switch given a value, and a flag
 * whose value is missing, empty, or looks like a flag (`--port --host x`).
 */
function refuseLoose<S extends string, B extends string>(
  args: readonly string[],
  spec: FlagSpec<S, B>,
): void {
  for (let i = 0; i < args.length && args[i] !== "--"; i++) {
    const [, name, equals] = /^--([^=]+)(=?)/s.exec(args[i]!) ?? [];
    if (name === undefined) continue;
    if (name.startsWith("no-")) throw unknownFlag(args[i]!);
    if ((spec.switches as readonly string[]).includes(name)) {
      if (equals !== "") throw new FlagError(`--${name} takes no value`);
    } else if ((spec.values as readonly string[]).includes(name) && equals === "") {
      const next = args[++i];
      if (next === undefined || next === "" || next.startsWith("-")) {
        throw new FlagError(`--${name} needs a value: --${name}=<value>`);
      }
    }
  }
}

function unknownFlag(arg: string): FlagError {
  return new FlagError(`unknown flag ${JSON.stringify(arg.split("=")[0])}`);
}

function unexpected(arg: string): FlagError {
  return new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
}
