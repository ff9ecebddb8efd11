/**
 * The two account forms of the page: "sign in" (a name kept with a password)
 * and "keep this name" (register the name in use), real `<form>`s with the
 * `autocomplete` words password managers look for. They read and check what
 * is typed and hand it to app.js, which alone speaks to the server.
 *
 * A password goes from a field to a handler and nowhere else: fields are
 * emptied once read, and nothing here stores anything.
 *
 * @module
 */
import { followsPasswordRule, warnsBeforePassword } from "./password_safety.js";
import { PASSWORD_RULE } from "./reasons.js";

const PLAIN_HTTP_WARNING = "This page is not encrypted (http, not https): anyone on the " +
  "network between you and the server could read your password. " +
  "Press the button again to send it anyway.";

const byId = (id) => document.getElementById(id);

/** Shows the forms and passes on what they collect. */
export class AccountForms {
  #signIn = byId("signin");
  #signInName = byId("signin-name");
  #signInPassword = byId("signin-password");
  #keep = byId("keep");
  #keepName = byId("keep-name-value");
  #keepPassword = byId("keep-password");
  #keepConfirm = byId("keep-confirm");
  #keepButton = byId("keep-name");
  /** The user chose to send passwords over plain HTTP: asked once per page load. */
  #plainHttpAccepted = false;

  /**
   * `on.signIn(name, password)` and `on.register(password)` send; `on.otherName()`
   * gives the name up; `on.closed()` says a form closed, for the focus to go back.
   */
  constructor(on) {
    this.#signIn.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = this.#signInName.value.trim();
      const password = this.#signInPassword.value;
      if (name === "" || password === "") {
        this.#error(this.#signIn, "Write the name and its password.");
        return;
      }
      if (!this.#plainHttpChecked(this.#signIn)) return;
      this.#error(this.#signIn, "");
      this.#signInPassword.value = "";
      on.signIn(name, password);
    });
    byId("signin-other").addEventListener("click", () => {
      this.hideSignIn();
      on.otherName();
    });
    this.#keep.addEventListener("submit", (event) => {
      event.preventDefault();
      const password = this.#keepPassword.value;
      if (password !== this.#keepConfirm.value) {
        this.#error(this.#keep, "The two passwords differ: type the same one twice.");
        return;
      }
      if (!followsPasswordRule(password)) {
        this.#error(this.#keep, `That password cannot be used. ${PASSWORD_RULE}`);
        return;
      }
      if (!this.#plainHttpChecked(this.#keep)) return;
      this.#error(this.#keep, "Keeping the name…");
      on.register(password);
    });
    byId("keep-cancel").addEventListener("click", () => {
      this.hideKeep();
      on.closed();
    });
    this.#keepButton.addEventListener("click", () => this.#openKeep());
  }

  /** Asks for `name`'s password, with `why` (an error in words, or "") under the form. */
  askPassword(name, why = "") {
    this.hideKeep();
    this.#signInName.value = name;
    this.#signIn.hidden = false;
    this.#error(this.#signIn, why);
    this.#signInPassword.focus();
  }

  /** The sign-in form is on screen. */
  get askingPassword() {
    return !this.#signIn.hidden;
  }

  /** Closes the sign-in form, emptying its password. */
  hideSignIn() {
    this.#signInPassword.value = "";
    this.#error(this.#signIn, "");
    this.#signIn.hidden = true;
  }

  /** Shows or hides "Keep this name" for `name` ("" hides it). */
  offerKeep(name) {
    this.#keepButton.hidden = name === "";
    this.#keepName.value = name;
    if (name === "") this.hideKeep();
  }

  /** Says why the name could not be kept, the form still open to try again. */
  keepFailed(why) {
    this.#error(this.#keep, why);
    this.#keepPassword.focus();
  }

  /** Closes the keep-this-name form, emptying its fields. */
  hideKeep() {
    this.#keepPassword.value = "";
    this.#keepConfirm.value = "";
    this.#error(this.#keep, "");
    this.#keep.hidden = true;
  }

  #openKeep() {
    this.hideSignIn();
    this.#keep.hidden = false;
    this.#keepPassword.focus();
  }

  /** Over plain HTTP to another machine, the first submit only warns; the next one sends. */
  #plainHttpChecked(form) {
    if (this.#plainHttpAccepted || !warnsBeforePassword(location.protocol, location.hostname)) {
      return true;
    }
    if (form.dataset.warned === "yes") {
      this.#plainHttpAccepted = true;
      return true;
    }
    form.dataset.warned = "yes";
    form.querySelector("button[type=submit]").textContent = "Send anyway";
    this.#error(form, PLAIN_HTTP_WARNING);
    return false;
  }

  #error(form, text) {
    form.querySelector(".account-error").textContent = text;
  }
}
