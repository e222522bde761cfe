// Campaign scripts (#scripts, #scripts/<id>): admins write them step by step (guidance or a
// question: its answer type, required or not, the answers to choose from, where each answer
// leads, whether its answers are personal data), give one to a campaign, and read how a
// campaign's script was answered (the survey, per version and question, the latest answers and a
// CSV export). Each change to the steps is a new version: the answers already given keep theirs.
// A question is personal data unless unmarked: its answers come masked (***) to a user without
// the personal_data permission, and the server audits every read.
import { api, el, showError, clearErrors } from "../js/api.js";
import { t, N_, fmt } from "../js/i18n.js";
import { act, pageHead, table, toast, field } from "./ui.js";

const LATEST = 20; // answer lines shown per survey (the CSV has them all)
const MASKED = "***";

const TYPES = [["text", N_("Text")], ["number", N_("Number")], ["date", N_("Date")], ["one_of", N_("One of")], ["several_of", N_("Several of")], ["yes_no", N_("Yes / no")]];

// "yes=offer, no=end" <-> {yes: "offer", no: "end"}
const branchText = (b) => Object.entries(b || {}).map(([k, v]) => `${k}=${v}`).join(", ");
function parseBranches(text) {
  const out = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [answer, step] = part.split("=").map((x) => x.trim());
    out[answer] = step || "";
  }
  return out;
}

function stepRow(s, i, editable, onRemove) {
  const name = (f) => `steps[${i}].${f}`;
  const kind = el("select", { name: name("kind"), disabled: !editable },
    el("option", { value: "question", selected: s.kind !== "guidance" }, t("Question")),
    el("option", { value: "guidance", selected: s.kind === "guidance" }, t("Guidance")));
  const type = el("select", { name: name("type"), disabled: !editable },
    TYPES.map(([v, label]) => el("option", { value: v, selected: (s.type || "text") === v }, t(label))));
  const row = el("fieldset", { class: "script-step card", "data-index": i },
    el("legend", {}, t("Step {n}", { n: i + 1 })),
    el("div", { class: "grid3" },
      field(t("Id"), el("input", { name: name("id"), value: s.id || `step${i + 1}`, disabled: !editable })),
      field(t("Kind"), kind),
      field(t("Answer type"), type, "question-only")),
    field(t("Text"), el("textarea", { name: name("text"), rows: 2, disabled: !editable }, s.text || ""), "wide"),
    el("div", { class: "grid3 question-only" },
      field(t("Answers to choose from (comma-separated)"), el("input", { name: name("options"), value: (s.options || []).join(", "), disabled: !editable })),
      field(t("Where answers lead (yes=offer, no=end)"), el("input", { name: name("branches"), value: branchText(s.branches), disabled: !editable }))),
    field(t("Then go to (blank: the next step)"), el("input", { name: name("next"), value: s.next || "", disabled: !editable })),
    el("div", { class: "row question-only", style: "justify-content:flex-start;gap:16px" },
      el("label", { class: "check" }, el("input", { type: "checkbox", name: name("required"), checked: !!s.required, disabled: !editable }), t("Required")),
      el("label", { class: "check", title: t("Its answers are masked for users without the personal data permission, and every read is audited.") },
        el("input", { type: "checkbox", name: name("personal"), checked: s.personal !== false, disabled: !editable }), t("Personal data"))),
    editable ? el("button", { type: "button", class: "ghost small", onclick: onRemove }, t("Remove step")) : null);
  // A guidance step is read out, not answered: only a question has a type, answers and flags.
  const shown = () => {
    for (const part of row.querySelectorAll(".question-only")) part.classList.toggle("hidden", kind.value !== "question");
  };
  kind.addEventListener("change", shown);
  shown();
  return row;
}

function readSteps(form, count) {
  const v = (i, f) => form.querySelector(`[name="steps[${i}].${f}"]`);
  const steps = [];
  for (let i = 0; i < count; i++) {
    const kind = v(i, "kind").value;
    const step = { id: v(i, "id").value.trim(), kind, text: v(i, "text").value.trim() };
    if (v(i, "next").value.trim()) step.next = v(i, "next").value.trim();
    if (kind === "question") {
      step.type = v(i, "type").value;
      step.required = v(i, "required").checked;
      step.personal = v(i, "personal").checked;
      const options = v(i, "options").value.split(",").map((o) => o.trim()).filter(Boolean);
      if (options.length) step.options = options;
      const branches = parseBranches(v(i, "branches").value);
      if (Object.keys(branches).length) step.branches = branches;
    }
    steps.push(step);
  }
  return steps;
}

async function editor(box, ctx, script) {
  const editable = ctx.isAdmin;
  const rows = script ? script.steps.map((s) => ({ ...s })) : [{ id: "hello", kind: "guidance", text: "" }];
  const holder = el("div", { id: "script-steps" });
  const name = el("input", { name: "name", value: script?.name || "", disabled: !editable });
  const error = el("p", { class: "error", id: "script-form-error", role: "alert" });
  const form = el("form", { id: "script-form", autocomplete: "off" }, field(t("Name"), name), holder);
  // What was typed is kept when a step is added or removed (read back before redrawing).
  const sync = () => rows.splice(0, rows.length, ...readSteps(form, holder.childElementCount));
  const redraw = () => holder.replaceChildren(...rows.map((s, i) => stepRow(s, i, editable, () => {
    sync(); rows.splice(i, 1); redraw();
  })));
  redraw();
  const campaigns = (await api("GET", "/api/v1/campaigns")).campaigns;
  const using = el("select", { id: "script-campaign", disabled: !editable || !script },
    el("option", { value: "" }, t("— give it to a campaign —")),
    campaigns.map((c) => el("option", { value: c.id }, c.name)));
  form.onsubmit = (ev) => {
    ev.preventDefault();
    clearErrors(form);
    error.textContent = "";
    act(async () => {
      const body = { name: name.value.trim(), steps: readSteps(form, holder.childElementCount) };
      const saved = script
        ? await api("PATCH", `/api/v1/scripts/${script.id}`, body)
        : await api("POST", "/api/v1/scripts", body);
      toast(t("Script saved (version {n})", { n: saved.version }));
      location.hash = `#scripts/${saved.id}`;
      if (script) await scripts(box, ctx, String(saved.id));
    }, (e) => showError(form, e, error));
  };
  // replaceChildren writes a null as the text "null": leave out the parts this page has not.
  const parts = [
    pageHead(script ? script.name : t("New script"),
      script ? t("Version {n}. Run by: {campaigns}.", { n: script.version, campaigns: script.campaigns.join(", ") || t("no campaign yet") }) : t("Steps an agent runs during a campaign call."),
      el("a", { class: "button ghost", href: "#scripts" }, t("All scripts"))),
    form,
    editable ? el("div", { class: "form-foot" },
      error,
      el("button", { type: "button", id: "script-add", onclick: () => {
        sync(); rows.push({ id: `step${rows.length + 1}`, kind: "question", type: "text", text: "" }); redraw();
      } }, t("Add a step")),
      el("button", { type: "submit", form: "script-form", class: "primary", id: "script-save" }, t("Save script"))) : null,
    script && editable ? el("div", { class: "row", style: "margin-top:16px;justify-content:flex-start;gap:12px" },
      using,
      el("button", { type: "button", id: "script-give", onclick: () => act(async () => {
        if (!using.value) return;
        await api("PATCH", `/api/v1/campaigns/${using.value}`, { script_id: script.id });
        toast(t("The campaign runs this script from its next call"));
        await scripts(box, ctx, String(script.id));
      }) }, t("Give it to the campaign"))) : null,
    script ? el("div", { id: "script-surveys" }, await surveys(script, campaigns)) : null];
  box.replaceChildren(...parts.filter((part) => part !== null));
}

async function surveys(script, campaigns) {
  const mine = campaigns.filter((c) => script.campaigns.includes(c.name));
  const parts = [];
  for (const c of mine) {
    const report = await api("GET", `/api/v1/campaigns/${c.id}/script-report?lines=${LATEST}`);
    parts.push(el("section", { class: "card survey", "data-campaign": c.id, style: "margin-top:16px" },
      el("div", { class: "row" }, el("h2", {}, t("Survey: {campaign}", { campaign: c.name })),
        el("a", { class: "button ghost", href: `/api/v1/campaigns/${c.id}/script-report?format=csv`, download: "" }, t("Export CSV"))),
      el("div", { class: "muted small" }, t("{n} attention(s) answered", { n: report.attentions })),
      report.questions.length ? report.questions.map((q) => question(q)) : el("div", { class: "empty" }, t("No answers yet.")),
      report.lines.length ? latest(report) : null));
  }
  return parts;
}

// The latest attentions' answers, one column per question; an answer to a personal question
// comes masked when the reader may not see personal data.
function latest(report) {
  const steps = [...new Map(report.questions.map((q) => [q.step, q])).values()];
  const shown = (v) => (v === MASKED
    ? el("span", { class: "masked", title: t("Personal data: you do not have the permission to see it") }, MASKED)
    : Array.isArray(v) ? v.join(", ") : v ?? "");
  return el("div", { class: "survey-lines", style: "margin-top:12px" },
    el("h3", {}, t("Latest answers")),
    report.masked ? el("p", { class: "muted small", id: "survey-masked" }, t("Answers to personal questions are masked: you do not have the personal data permission.")) : null,
    table([
      [t("Attention"), (l) => `#${l.attention_id}`],
      [t("Saved at"), (l) => fmt.dateTime(l.saved_at)],
      [t("Operator"), (l) => l.operator || "—"],
      // Each column headed by its question as last asked (cut short when long).
      ...steps.map((q) => [q.text.length <= 40 ? q.text : `${q.text.slice(0, 39)}…`, (l) => shown(l.answers[q.step])]),
    ], [...report.lines].reverse(), { id: `survey-lines-${report.campaign_id}` }));
}

function question(q) {
  const entries = Object.entries(q.counts);
  const most = Math.max(1, ...entries.map(([, n]) => n));
  return el("div", { class: "survey-q", "data-step": q.step, "data-version": q.version },
    el("div", {}, el("b", {}, q.text), el("span", { class: "muted small" }, ` · v${q.version} · ${t("{n} answered", { n: q.answered })}`),
      q.personal ? el("span", { class: "chip grey personal", style: "margin-left:8px" }, t("personal data")) : null),
    entries.length ? el("div", { class: "bars" }, entries.map(([answer, n]) =>
      el("div", { class: "bar-row", "data-answer": answer },
        el("span", { class: "bar-label" }, answer),
        el("span", { class: "bar", style: `width:${Math.round((n / most) * 100)}%` }),
        el("span", { class: "bar-count" }, String(n))))) : null);
}

export default async function scripts(box, ctx, arg) {
  if (arg === "new") return editor(box, ctx, null);
  if (arg) return editor(box, ctx, await api("GET", `/api/v1/scripts/${arg}`));
  const all = (await api("GET", "/api/v1/scripts")).scripts;
  box.replaceChildren(
    pageHead(t("Campaign scripts"), t("What agents run during a campaign call; each change is a new version."),
      ctx.isAdmin ? el("a", { class: "button primary", href: "#scripts/new", id: "script-new" }, t("New script")) : null),
    el("section", { class: "card" }, table([
      [t("Script"), (s) => el("a", { href: `#scripts/${s.id}` }, s.name)],
      [t("Version"), (s) => String(s.version)],
      [t("Steps"), (s) => String(s.steps.length)],
      [t("Campaigns"), (s) => s.campaigns.join(", ") || "—"],
    ], all, { id: "scripts-table", empty: t("No script yet.") })));
  return undefined;
}
