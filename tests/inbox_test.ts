/** Unit tests of the inbox: batches in order, and the end of iteration after close. */
import { assert, assertEquals } from "@std/assert";
import { Inbox } from "../lib/inbox.ts";

/** Every batch the inbox yields until its iteration ends. */
async function drain<T>(inbox: Inbox<T>): Promise<T[][]> {
  const batches: T[][] = [];
  for await (const batch of inbox) batches.push([...batch]);
  return batches;
}

Deno.test("Inbox yields everything queued since the last turn as one batch, in order", async () => {
  const inbox = new Inbox<number>();
  const iterator = inbox[Symbol.asyncIterator]();
  inbox.push(1);
  inbox.push(2);
  inbox.push(3);
  assertEquals(await iterator.next(), { value: [1, 2, 3], done: false });
  // The consumer waits; pushes made before it wakes join one batch.
  const waiting = iterator.next();
  inbox.push(4);
  inbox.push(5);
  assertEquals(await waiting, { value: [4, 5], done: false });
  inbox.push(6);
  assertEquals(await iterator.next(), { value: [6], done: false });
  inbox.close();
  assertEquals(await iterator.next(), { value: undefined, done: true });
});

Deno.test("Inbox does not change a batch it has already yielded", async () => {
  const inbox = new Inbox<string>();
  const iterator = inbox[Symbol.asyncIterator]();
  inbox.push("a");
  const first = await iterator.next();
  inbox.push("b");
  inbox.push("c");
  const second = await iterator.next();
  assertEquals(first.value, ["a"]);
  assertEquals(second.value, ["b", "c"]);
  inbox.close();
  assertEquals((await iterator.next()).done, true);
});

Deno.test("Inbox ignores pushes after close", async () => {
  const inbox = new Inbox<number>();
  inbox.push(1);
  inbox.close();
  inbox.push(2);
  inbox.push(3);
  assertEquals(await drain(inbox), [[1]]);
});

Deno.test("Inbox ends the iteration after close, once the queued items are taken", async () => {
  const inbox = new Inbox<string>();
  inbox.push("x");
  inbox.push("y");
  inbox.close();
  inbox.close(); // idempotent
  assertEquals(await drain(inbox), [["x", "y"]]);
});

Deno.test("Inbox wakes a waiting consumer on close and ends its iteration", async () => {
  const inbox = new Inbox<number>();
  const consumed = drain(inbox);
  await Promise.resolve();
  inbox.push(1);
  await Promise.resolve();
  inbox.push(2);
  inbox.close();
  const batches = await consumed;
  assertEquals(batches.flat(), [1, 2], "every item arrives once, in order");
  assert(batches.every((batch) => batch.length > 0), "no empty batch");
});

Deno.test("Inbox with nothing queued ends at once after close", async () => {
  const inbox = new Inbox<number>();
  const iterator = inbox[Symbol.asyncIterator]();
  const waiting = iterator.next();
  inbox.close();
  assertEquals(await waiting, { value: undefined, done: true });
});
