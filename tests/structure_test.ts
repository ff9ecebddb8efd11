/**
 * The shape of the code, kept by a test: no module under `lib/` grows past
 * {@linkcode MAX_LIB_LINES} lines, and no module imports one that imports it
 * back, types and dynamic imports included.
 */
import { assertEquals } from "@std/assert";

/** Longest a module under `lib/` may grow before it is split by job. */
const MAX_LIB_LINES = 450;

const root = new URL("../", import.meta.url);

/** Every `.ts` and `.js` file under `dir` (relative to the repository), recursively: the page's too. */
function listModules(dir: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(new URL(dir, root))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...listModules(path));
    else if (entry.name.endsWith(".ts") || entry.name.endsWith(".js")) found.push(path);
  }
  return found.sort();
}

/** Matches a relative specifier in `import`/`export … from` and `import()`, `import type` included. */
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s*["'](\.[^"']+)["']|\bimport\(\s*["'](\.[^"']+)["']\s*\)/g;

/** `from` resolved against `path`'s folder, as a repository-relative path. */
function resolve(path: string, specifier: string): string {
  return new URL(specifier, new URL(path, root)).pathname.slice(root.pathname.length);
}

/** The relative modules `path` imports. */
function importsOf(path: string): string[] {
  const source = Deno.readTextFileSync(new URL(path, root));
  return [...source.matchAll(IMPORT)].map((m) => resolve(path, (m[1] ?? m[2])!));
}

/** Lines in `text`, as an editor numbers them. */
function countLines(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** Every import cycle reachable from `modules`, each as the path that closes it. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (module: string): void => {
    stack.push(module);
    for (const next of graph.get(module) ?? []) {
      const at = stack.indexOf(next);
      if (at !== -1) cycles.push([...stack.slice(at), next]);
      else if (!done.has(next)) visit(next);
    }
    stack.pop();
    done.add(module);
  };
  for (const module of graph.keys()) if (!done.has(module)) visit(module);
  return cycles;
}

Deno.test("no module under lib/ is longer than 450 lines", () => {
  const tooLong = listModules("lib")
    .map((path) => ({ path, lines: countLines(Deno.readTextFileSync(new URL(path, root))) }))
    .filter(({ lines }) => lines > MAX_LIB_LINES);
  assertEquals(tooLong, []);
});

Deno.test("no module imports one that imports it back, types included", () => {
  const modules = [...listModules("lib"), "main.ts", "healthcheck.ts"];
  const graph = new Map(modules.map((path) => [path, importsOf(path)]));
  assertEquals(findCycles(graph), []);
});

Deno.test("the cycle finder sees a cycle through a type-only import", () => {
  const graph = new Map([
    ["lib/a.ts", ["lib/b.ts"]],
    ["lib/b.ts", ["lib/c.ts"]],
    ["lib/c.ts", ["lib/a.ts"]],
  ]);
  assertEquals(findCycles(graph), [["lib/a.ts", "lib/b.ts", "lib/c.ts", "lib/a.ts"]]);
  const source =
    'import type { X } from "./x.ts";\nexport { y } from "../y.ts";\nawait import("./z.ts");';
  assertEquals([...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2]), [
    "./x.ts",
    "../y.ts",
    "./z.ts",
  ]);
});
