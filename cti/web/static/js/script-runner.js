// The campaign script at the desk ("Script da Campanha"): on a campaign call whose campaign has a
// script, the agent runs it step by step (guidance to read, questions to answer); the answer to a
// one-of or yes/no question may choose the next step; the answers are saved with the attention,
// on the version of the script they were given on. desk.js tells which screen is shown
// ("cti:screen"); the server checks the answers along the path they take. An agent without the
// personal-data permission gets the saved answers to personal questions masked (***): the script
// then opens on what was saved, those answers hidden, and "Answer again" runs it afresh.
import { api, ApiError, el, showError, clearErrors } from "./api.js";
import { t, N_ } from "./i18n.js";

const END = "end";
const MASKED = "***";
const TYPE_HINT = { number: N_("a number"), date: N_("a date"), several_of: N_("any that apply") };

class ScriptRunner {
  constructor(card) {
    this.card = card;
    this.attentionId = null;
    this.script = null;
    this.answers = {};
    this.trail = []; // ids of the steps shown, in order (Back walks it)
  }

  async follow({ attention, pop }) {
    const scripted = attention && pop?.campaign?.campaign?.script_id;
    this.card.classList.toggle("hidden", !scripted);
    if (!scripted) { this.attentionId = null; return; }
    if (this.attentionId === attention.id) return;
    this.attentionId = attention.id;
    try {
      this.script = await api("GET", `/api/v1/desk/attentions/${attention.id}/script`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) { this.card.classList.add("hidden"); return; }
      throw e;
    }
    this.answers = { ...this.script.answers };
    // Masked answers cannot be walked (a hidden answer may have chosen the branch): show what was
    // saved instead, until the agent answers again.
    this.hidden = this.script.masked && Object.values(this.answers).includes(MASKED);
    this.trail = this.hidden ? [END] : [this.script.steps[0].id];
    this.saved = this.script.saved_at !== null;
    this.paint();
  }

  again() {
    this.answers = {};
    this.hidden = false;
    this.trail = [this.script.steps[0].id];
    this.paint();
  }

  step(id) { return this.script.steps.find((s) => s.id === id); }

  // The step after `step` given its answer: its branch, its `next`, else the one below it.
  after(step, answer) {
    if (typeof answer === "string" && step.branches && answer in step.branches) return step.branches[answer];
    if (step.next) return step.next;
    const at = this.script.steps.indexOf(step);
    return at + 1 < this.script.steps.length ? this.script.steps[at + 1].id : END;
  }

  // The answers along the path taken (a branch left behind takes its answers with it).
  onPath() {
    const out = {};
    let id = this.script.steps[0].id;
    while (id !== END) {
      const s = this.step(id);
      const a = this.answers[id];
      if (s.kind === "question" && a !== undefined && a !== "" && !(Array.isArray(a) && !a.length)) out[id] = a;
      id = this.after(s, a);
    }
    return out;
  }

  input(s) {
    const value = this.answers[s.id];
    if (s.type === "yes_no" || s.type === "one_of") {
      const options = s.type === "yes_no" ? ["yes", "no"] : s.options;
      return el("div", { class: "script-options", role: "radiogroup" }, options.map((o) =>
        el("label", { class: "check" }, el("input", { type: "radio", name: "answer", value: o, checked: value === o }), o)));
    }
    if (s.type === "several_of") {
      const chosen = new Set(value || []);
      return el("div", { class: "script-options" }, s.options.map((o) =>
        el("label", { class: "check" }, el("input", { type: "checkbox", name: "answer", value: o, checked: chosen.has(o) }), o)));
    }
    const type = s.type === "number" ? "text" : s.type === "date" ? "date" : "text";
    return el("input", { name: "answer", type, value: value || "", inputmode: s.type === "number" ? "decimal" : undefined, "aria-label": s.text });
  }

  read(s, form) {
    if (s.type === "several_of") return [...form.querySelectorAll("input[name=answer]:checked")].map((i) => i.value);
    if (s.type === "yes_no" || s.type === "one_of") return form.querySelector("input[name=answer]:checked")?.value ?? "";
    return form.querySelector("input[name=answer]").value.trim();
  }

  paint() {
    const id = this.trail[this.trail.length - 1];
    const head = el("div", { class: "row", style: "align-items:center;margin-bottom:8px" },
      el("h2", {}, t("Campaign script")),
      el("span", { class: "muted small", id: "script-name" }, t("{name} · version {n}", { name: this.script.name, n: this.script.version })));
    if (id === END) {
      const answered = this.hidden
        ? this.script.steps.filter((s) => s.id in this.answers).map((s) => [s.id, this.answers[s.id]])
        : Object.entries(this.onPath());
      const shown = (v) => (v === MASKED
        ? el("span", { class: "muted masked" }, t("hidden (personal data)"))
        : Array.isArray(v) ? v.join(", ") : v);
      this.card.replaceChildren(head,
        el("div", { id: "script-end" },
          el("p", {}, this.saved ? t("Answers saved with this attention.") : t("End of the script: save the answers with the attention.")),
          el("ul", { class: "script-summary" }, answered.map(([k, v]) =>
            el("li", { "data-step": k }, el("b", {}, `${this.step(k).text} `), shown(v)))),
          el("div", { class: "form-foot" },
            el("span", { class: "error", id: "script-error" }),
            this.hidden
              ? el("button", { type: "button", class: "ghost", id: "script-again", onclick: () => this.again() }, t("Answer again"))
              : el("button", { type: "button", class: "ghost", id: "script-back", onclick: () => this.back() }, t("Back")),
            this.hidden ? null : el("button", { type: "button", class: "primary", id: "script-save", onclick: () => this.save() }, t("Save answers")))));
      return;
    }
    const s = this.step(id);
    const form = el("form", { id: "script-step", "data-step": s.id, autocomplete: "off" });
    const hint = s.kind === "question"
      ? el("div", { class: "muted small" }, [s.required ? t("required") : t("optional"), TYPE_HINT[s.type] && t(TYPE_HINT[s.type]), s.personal !== false && t("personal data")].filter(Boolean).join(" · "))
      : null;
    form.append(
      el("p", { class: s.kind === "guidance" ? "script-guidance" : "script-question" }, s.text),
      hint,
      s.kind === "question" ? this.input(s) : null,
      el("div", { class: "form-foot" },
        el("span", { class: "error", id: "script-error" }),
        this.trail.length > 1 ? el("button", { type: "button", class: "ghost", id: "script-back", onclick: () => this.back() }, t("Back")) : null,
        el("button", { type: "submit", class: "primary", id: "script-next" }, t("Next"))));
    form.oninput = () => { form.querySelector("#script-error").textContent = ""; };
    form.onsubmit = (ev) => {
      ev.preventDefault();
      let answer;
      if (s.kind === "question") {
        answer = this.read(s, form);
        const empty = answer === "" || (Array.isArray(answer) && !answer.length);
        if (empty && s.required) { form.querySelector("#script-error").textContent = t("This question needs an answer."); return; }
        this.answers[s.id] = answer;
      }
      this.saved = false;
      this.trail.push(this.after(s, answer));
      this.paint();
    };
    this.card.replaceChildren(head, form);
    form.querySelector("input")?.focus();
  }

  back() { if (this.trail.length > 1) { this.trail.pop(); this.paint(); } }

  async save() {
    const error = this.card.querySelector("#script-error");
    clearErrors(this.card);
    try {
      const saved = await api("PUT", `/api/v1/desk/attentions/${this.attentionId}/script`, { answers: this.onPath() });
      this.script = saved;
      this.saved = true;
      this.paint();
    } catch (e) {
      showError(this.card, e, error);
    }
  }
}

const card = document.getElementById("script-card");
if (card) {
  const runner = new ScriptRunner(card);
  document.addEventListener("cti:screen", (ev) => {
    runner.follow(ev.detail).catch((e) => console.error("campaign script", e));
  });
}
