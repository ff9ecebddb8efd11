/**
 * The account commands in the hub's turn: `LOGIN` with accounts on,
 * `REGISTER`, `PASSWORD` and `UNREGISTER`. What is quick (a malformed
 * command, a weak password, the throttle) is answered at once; the rest is
 * handed to the {@linkcode AccountDesk}, the session's later lines wait
 * behind it, and the answer comes back as an {@linkcode AccountAnswer}.
 *
 * @module
 */
import type { Cluster } from "../cluster.ts";
import type { Delivery } from "../delivery.ts";
import { nameKey, RESERVED_KEYS, validateName } from "../names.ts";
import { type CloseReason, type Command, splitFirst } from "../protocol.ts";
import { isMember, type MemberSession, type Session } from "../session.ts";
import {
  type AccountDesk,
  type ChangeWork,
  type Check,
  type LoginWork,
  type RegisterWork,
} from "./account_desk.ts";
import { ALREADY_REGISTERED } from "./account_store.ts";
import { passwordProblem } from "./password_hash.ts";

/** A try the throttle counted when it began: settled once, when its answer comes. */
interface Tried {
  /** The account's name key. */
  readonly key: string;
  /** The client's address. */
  readonly address: string;
}

/** What account work came to, back in the hub's turn, for the session that asked. */
export type AccountAnswer =
  /** `LOGIN <name>`: does the name have an account (undefined: the store could not say)? */
  | {
    readonly kind: "name-checked";
    readonly name: string;
    readonly key: string;
    readonly exists: boolean | undefined;
  }
  /** A try the throttle refused after answering asynchronously (Redis): nothing to settle. */
  | { readonly kind: "throttled" }
  /** `LOGIN <name> <password>`. */
  | { readonly kind: "login"; readonly tried: Tried; readonly work: LoginWork }
  /** `REGISTER <password>`. */
  | { readonly kind: "register"; readonly work: RegisterWork }
  /** `PASSWORD` or `UNREGISTER`. */
  | {
    readonly kind: "password" | "unregister";
    readonly tried: Tried;
    readonly work: ChangeWork;
  };

/** What the account commands may see of the hub, and ask of it. */
export interface AccountContext {
  /** This instance's logged-in sessions by name key. */
  readonly users: ReadonlyMap<string, MemberSession>;
  /** The way out to this instance's clients. */
  readonly delivery: Delivery;
  /** Told when a member's account changes: a rejoin reclaims the name with the right id. */
  readonly cluster: Pick<Cluster, "accountChanged">;
  /** Where account work is done; undefined: accounts are off. */
  readonly desk: AccountDesk | undefined;
  /** Claims a valid name no local user holds, as a guest or for `account`. */
  claim(session: Session, name: string, key: string, account?: number): void;
  /** Ends a session for `reason`, telling the others if it was logged in. */
  disconnect(session: Session, reason: CloseReason): void;
  /** Holds the session's later commands until `work` settles, then applies its answer. */
  wait(session: Session, work: Promise<AccountAnswer>): void;
}

type CommandOf<K extends Command["kind"]> = Extract<Command, { readonly kind: K }>;

/** `LOGIN` from an anonymous session with accounts on (`desk` defined). */
export function accountLogin(
  hub: AccountContext,
  desk: AccountDesk,
  session: Session,
  raw: string,
): void {
  const [typed, password] = splitFirst(raw);
  const name = validateName(typed);
  if (name === undefined) {
    hub.delivery.reply(session, "invalidUsername", typed);
    return;
  }
  const key = nameKey(name);
  // The services' names are taken, with or without a password, and cost no throttle try.
  if (RESERVED_KEYS.has(key)) {
    hub.delivery.reply(session, "usernameTaken", name);
    return;
  }
  if (password === "") {
    // Even a name online here is looked up: its holder may be a guest or an account's.
    hub.wait(
      session,
      desk.exists(key).then((exists) => ({ kind: "name-checked", name, key, exists })),
    );
    return;
  }
  const tried = { key, address: session.link.ip };
  afterThrottle(
    hub,
    desk,
    session,
    tried,
    () => desk.login(key, password).then((work) => ({ kind: "login", tried, work })),
  );
}

/**
 * Starts `work` once the throttle lets the try go. An in-process throttle
 * answers at once; Redis's answer is awaited as the work is, the session's
 * later lines waiting behind it, the hub never.
 */
function afterThrottle(
  hub: AccountContext,
  desk: AccountDesk,
  session: Session,
  { key, address }: Tried,
  work: () => Promise<AccountAnswer>,
): void {
  const decision = desk.throttle.begin(key, address);
  if (decision === "throttled") hub.delivery.reply(session, "loginThrottled");
  else if (decision === "go") hub.wait(session, work());
  else {
    const throttled: AccountAnswer = { kind: "throttled" };
    hub.wait(session, decision.then((now) => now === "go" ? work() : throttled));
  }
}

/** `REGISTER <password>`: the member's name becomes an account. */
export function register(
  hub: AccountContext,
  member: MemberSession,
  { password }: CommandOf<"register">,
): void {
  const desk = hub.desk;
  if (desk === undefined) hub.delivery.reply(member, "accountsOff");
  else if (member.state.account !== undefined) hub.delivery.reply(member, "alreadyRegistered");
  else if (passwordProblem(password) !== undefined) hub.delivery.reply(member, "weakPassword");
  else {
    const { name, key } = member.state;
    const work = () =>
      desk.register(name, key, password).then((work): AccountAnswer => ({
        kind: "register",
        work,
      }));
    // Counted when it starts, as a login try is: a refused or failed registration counts too.
    const allowed = desk.registrations.allow(member.link.ip);
    if (allowed === false) hub.delivery.reply(member, "loginThrottled");
    else if (allowed === true) hub.wait(member, work());
    else {
      // Redis's answer is awaited as the work is: the session's later lines wait, the hub never.
      const throttled: AccountAnswer = { kind: "throttled" };
      hub.wait(member, allowed.then((yes) => yes ? work() : throttled));
    }
  }
}

/** `PASSWORD <old> <new>`. */
export function changePassword(
  hub: AccountContext,
  member: MemberSession,
  { old, next }: CommandOf<"password">,
): void {
  ownCheck(hub, member, "password", next, (desk, id, key) => desk.change(id, key, old, next));
}

/** `UNREGISTER <password>`. */
export function unregister(
  hub: AccountContext,
  member: MemberSession,
  { password }: CommandOf<"unregister">,
): void {
  ownCheck(
    hub,
    member,
    "unregister",
    undefined,
    (desk, id, key) => desk.unregister(id, key, password),
  );
}

/** A check of the member's own password, throttled as a login try is, then `work`. */
function ownCheck(
  hub: AccountContext,
  member: MemberSession,
  kind: "password" | "unregister",
  next: string | undefined,
  work: (desk: AccountDesk, id: number, key: string) => Promise<ChangeWork>,
): void {
  const id = accountOf(hub, member, next);
  const desk = hub.desk;
  if (id === undefined || desk === undefined) return;
  const tried = { key: member.state.key, address: member.link.ip };
  afterThrottle(
    hub,
    desk,
    member,
    tried,
    () => work(desk, id, tried.key).then((work) => ({ kind, tried, work })),
  );
}

/** The member's account id, or undefined once it has been told why there is none (or why `next` will not do). */
function accountOf(hub: AccountContext, member: MemberSession, next?: string): number | undefined {
  if (hub.desk === undefined) hub.delivery.reply(member, "accountsOff");
  else if (member.state.account === undefined) hub.delivery.reply(member, "accountRequired");
  else if (next !== undefined && passwordProblem(next) !== undefined) {
    hub.delivery.reply(member, "weakPassword");
  } else return member.state.account;
  return undefined;
}

/**
 * Applies an answer: the throttle is settled whether or not the session is
 * still there (`undefined`: it left meanwhile), then the session is told.
 */
export function accountAnswered(
  hub: AccountContext,
  session: Session | undefined,
  answer: AccountAnswer,
): void {
  if (answer.kind === "login" || answer.kind === "password" || answer.kind === "unregister") {
    settle(hub.desk, answer.tried, answer.work.check);
  }
  if (session === undefined) return;
  switch (answer.kind) {
    case "name-checked":
      nameChecked(hub, session, answer);
      return;
    case "throttled":
      hub.delivery.reply(session, "loginThrottled");
      return;
    case "login":
      loggedIn(hub, session, answer.work);
      return;
    case "register":
      if (isMember(session)) registered(hub, session, answer.work);
      return;
    case "password":
    case "unregister":
      if (isMember(session)) changed(hub, session, answer.kind, answer.work);
      return;
    default:
      answer satisfies never;
  }
}

function settle(desk: AccountDesk | undefined, { key, address }: Tried, check: Check): void {
  const throttle = desk?.throttle;
  if (throttle === undefined) return;
  switch (check) {
    case "match":
      return throttle.succeeded(key, address);
    case "mismatch":
      return throttle.failed(key, address);
    case "unknown":
      return throttle.unknownAccount(key, address);
    case "unchecked":
      return throttle.abandoned(key, address);
    default:
      check satisfies never;
  }
}

function nameChecked(
  hub: AccountContext,
  session: Session,
  { name, key, exists }: AccountAnswer & { kind: "name-checked" },
): void {
  // A name that cannot be looked up now is not handed out as a guest's: it may be an account's.
  // Unless the claim checks that itself (Redis): it waits for Redis as any claim does.
  if (exists === undefined && hub.desk?.claimsCheckAccounts !== true) {
    hub.delivery.reply(session, "loginThrottled");
  } else if (exists) hub.delivery.reply(session, "passwordRequired", name);
  else if (hub.users.has(key)) hub.delivery.reply(session, "usernameTaken", name);
  else hub.claim(session, name, key);
}

function loggedIn(hub: AccountContext, session: Session, { check, account }: LoginWork): void {
  if (check === "mismatch") hub.delivery.reply(session, "badPassword");
  else if (check === "unknown") hub.delivery.reply(session, "unknownAccount");
  else if (check === "unchecked" || account === undefined) {
    hub.delivery.reply(session, "loginThrottled");
  } else {
    // The right password takes the name over from whoever holds it here.
    const holder = hub.users.get(account.key);
    if (holder !== undefined) hub.disconnect(holder, "session-replaced");
    hub.claim(session, account.name, account.key, account.id);
  }
}

function registered(hub: AccountContext, member: MemberSession, work: RegisterWork): void {
  if (work === ALREADY_REGISTERED) hub.delivery.reply(member, "alreadyRegistered");
  else if (work === "unavailable") hub.delivery.reply(member, "loginThrottled");
  else {
    member.state.account = work.id;
    hub.cluster.accountChanged(member.state.key, work.id);
    hub.delivery.reply(member, "registered");
  }
}

function changed(
  hub: AccountContext,
  member: MemberSession,
  how: "password" | "unregister",
  work: ChangeWork,
): void {
  if (work.check === "mismatch") hub.delivery.reply(member, "badPassword");
  else if (work.result === "unavailable") hub.delivery.reply(member, "loginThrottled");
  else if (work.result === "gone") {
    // Deleted meanwhile (the operator's task): the member is a guest now.
    member.state.account = undefined;
    hub.cluster.accountChanged(member.state.key, undefined);
    hub.delivery.reply(member, "accountRequired");
  } else if (how === "password") hub.delivery.reply(member, "passwordChanged");
  else {
    member.state.account = undefined;
    hub.cluster.accountChanged(member.state.key, undefined);
    hub.delivery.reply(member, "unregistered");
  }
}
