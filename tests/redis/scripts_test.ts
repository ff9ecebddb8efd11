/** The Lua scripts take their key names from the key layout. */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { KEY_KINDS, KEYS } from "../../lib/redis/keys.ts";
import * as scripts from "../../lib/redis/scripts.ts";

/** Every `prefix .. 'literal' .. id` key a script builds, as [literal, id variable]. */
function builtKeys(script: string): [string, string][] {
  return [...script.matchAll(/\bp \.\. '([^']*)' \.\. ([\w[\]]+)/g)].map((m) => [m[1]!, m[2]!]);
}

Deno.test("the sweep builds other instances' keys exactly as the key layout does", () => {
  const built = builtKeys(scripts.SWEEP);
  assertEquals(
    [...new Set(built.map(([kind]) => kind))].sort(),
    [KEY_KINDS.alive, KEY_KINDS.name, KEY_KINDS.owned],
  );
  const layout: Record<string, (prefix: string, id: string) => string> = {
    [KEY_KINDS.alive]: KEYS.alive,
    [KEY_KINDS.owned]: KEYS.owned,
    [KEY_KINDS.name]: KEYS.name,
  };
  for (const [kind] of built) assertStrictEquals(`chat:${kind}x`, layout[kind]!("chat:", "x"));
});

Deno.test("no script spells a key name of its own: they come as KEYS, arguments or the layout's kinds", () => {
  const kinds = new Set<string>(Object.values(KEY_KINDS));
  for (const [name, script] of Object.entries(scripts)) {
    const literals = [...script.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
    const keyLike = literals.filter((text) => /[a-z]:$/.test(text));
    for (const text of keyLike) assert(kinds.has(text), `${name} spells '${text}'`);
    for (const word of ["alive", "owned", "instances", "seq"]) {
      assert(!literals.includes(word), `${name} spells '${word}'`);
    }
  }
  assertEquals(builtKeys(scripts.LEAVE).length + builtKeys(scripts.REJOIN).length, 0);
});
