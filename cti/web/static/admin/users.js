// Users (admins): who works here, with which role, routines, group, phone and personal-data
// permission; add, change, reset a password, deactivate (signs them out) and reactivate.
import { api, el, showError, clearErrors } from "../js/api.js";
import { t } from "../js/i18n.js";
import { act, pageHead, table, toast, field, check } from "./ui.js";

const ROUTINES = ["telemarketing", "telesales", "collection"];
const ROLES = ["operator", "supervisor", "admin"];

function flags(u) {
  const chips = [
    !u.active ? el("span", { class: "chip bad" }, t("deactivated")) : u.signed_in ? el("span", { class: "chip ok" }, el("span", { class: "dot" }), t("signed in")) : null,
    u.weak_password ? el("span", { class: "chip bad weak-password", title: t("Their password breaks the password rule: reset it") }, t("weak password")) : null,
  ].filter(Boolean);
  return chips.length ? el("div", { class: "user-flags" }, chips) : null;
}

export default async function users(main, ctx) {
  const state = { rows: [], open: null, groups: [] };
  // Scrolls sideways where the page is too narrow for the whole table (never under the form).
  const list = el("section", { class: "card wide-table" });
  const side = el("aside", { class: "card sticky", id: "user-side" });
  // Until a user is picked or added the table has the page's whole width (beside the form, at a
  // desk's 1280 px, it had to scroll to show the phones).
  const split = el("div", { class: "split idle" }, list, side);
  const showInactive = el("input", { type: "checkbox", id: "show-inactive", onchange: () => paintList() });

  main.append(
    pageHead(t("Users"), t("Operators, supervisors and admins: what each may do and where their phone is."),
      el("label", { class: "check" }, showInactive, t("Show deactivated")),
      el("button", { type: "button", class: "primary", id: "user-new", onclick: () => { state.open = "new"; paintList(); paintSide(); } }, t("Add a user"))),
    split);

  async function reload() {
    [state.rows, state.groups] = await Promise.all([api("GET", "/api/v1/users"), api("GET", "/api/v1/config/attention-groups")]);
    paintList();
  }

  function paintList() {
    const rows = state.rows.filter((u) => u.active || showInactive.checked);
    list.replaceChildren(table([
      // Whether they are signed in, deactivated or have a weak password: under their name (a
      // column of its own made the table too wide for its half of the page).
      [t("User"), (u) => el("span", {}, el("b", {}, u.username), el("div", { class: "sub" }, u.full_name || "—"), flags(u))],
      [t("Role"), (u) => el("span", { class: `chip role-chip ${u.role}` }, t(u.role))],
      [t("Routines"), (u) => u.routines.length ? u.routines.map((r) => t(r)).join(", ") : el("span", { class: "muted" }, "—")],
      [t("Group"), (u) => u.group || el("span", { class: "muted" }, "—")],
      [t("Phone"), (u) => u.interface ? el("span", {}, u.interface, el("div", { class: "sub" }, u.softphone ? t("ext. {ext} · browser phone", { ext: u.extension || "—" }) : t("ext. {ext}", { ext: u.extension || "—" }))) : el("span", { class: "muted" }, "—")],
      [t("Personal data"), (u) => u.personal_data ? el("span", { class: "chip ok" }, t("allowed")) : u.group_personal_data ? el("span", { class: "chip ok" }, t("by group")) : el("span", { class: "chip grey" }, t("masked"))],
    ], rows, {
      id: "users-table",
      rowAttrs: (u) => ({ "data-user": u.username, class: `clickable${u.active ? "" : " inactive"}${state.open === u.id ? " selected" : ""}`,
        onclick: () => { state.open = u.id; paintList(); paintSide(); } }),
    }));
  }

  function form(u) {
    const isNew = !u;
    u = u || { username: "", full_name: "", role: "operator", routines: [], group: null, extension: "", interface: "", softphone: false, personal_data: false };
    const f = el("form", { id: "user-form", class: "form-grid", autocomplete: "off" },
      isNew ? field(t("User name"), el("input", { name: "username", id: "user-username", placeholder: t("one word, e.g. maria") })) : null,
      isNew ? field(t("Password"), el("input", { name: "password", id: "user-password", type: "password", autocomplete: "new-password", placeholder: t("at least 10 characters, not a common one") })) : null,
      field(t("Full name"), el("input", { name: "full_name", id: "user-full_name", value: u.full_name || "" }), "wide"),
      field(t("Role"), el("select", { name: "role", id: "user-role" }, ROLES.map((r) => el("option", { value: r, selected: r === u.role }, t(r))))),
      field(t("Attention group"), el("select", { name: "group", id: "user-group" }, el("option", { value: "" }, t("— none —")),
        state.groups.map((g) => el("option", { value: g.name, selected: g.name === u.group }, t("{name} (ideal {seconds} s)", { name: g.name, seconds: g.ideal_talk_seconds }))))),
      el("div", { class: "wide" }, el("label", {}, t("Routines (an operator needs at least one)"),
        el("input", { type: "hidden", name: "routines" })),
      el("div", { class: "checks", id: "user-routines" }, ROUTINES.map((r) => check(`routine-${r}`, t(r), u.routines.includes(r))))),
      field(t("Extension"), el("input", { name: "extension", id: "user-extension", value: u.extension || "", placeholder: "1001" })),
      field(t("Interface"), el("input", { name: "interface", id: "user-interface", value: isNew ? "" : u.interface || "", placeholder: t("PJSIP/1001 (from the extension)") })),
      el("div", { class: "wide" }, check("softphone", t("Phone in the browser (the desk's softphone: no SIP phone to set up)"), u.softphone)),
      el("div", { class: "wide" }, check("personal_data", t("May see personal data unmasked (LGPD/GDPR)"), u.personal_data)),
      el("div", { class: "wide form-foot" }, el("span", { class: "error", id: "user-error" }),
        el("button", { type: "submit", class: "primary", id: "user-save" }, isNew ? t("Add user") : t("Save changes"))));
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      clearErrors(f);
      const e = f.elements;
      const body = {
        full_name: e.full_name.value.trim() || null,
        role: e.role.value,
        routines: ROUTINES.filter((r) => e[`routine-${r}`].checked),
        group: e.group.value || null,
        softphone: e.softphone.checked,
        personal_data: e.personal_data.checked,
      };
      const ext = e.extension.value.trim();
      const iface = e.interface.value.trim();
      if (isNew) {
        Object.assign(body, { username: e.username.value.trim(), password: e.password.value });
        if (ext) body.extension = ext;
        if (iface) body.interface = iface;
      } else {
        if (ext !== (u.extension || "")) body.extension = ext || null;
        if (iface !== (u.interface || "")) body.interface = iface || null;
      }
      act(async () => {
        const saved = isNew ? await api("POST", "/api/v1/users", body) : await api("PATCH", `/api/v1/users/${u.id}`, body);
        toast(isNew ? t("{name} added", { name: saved.username }) : t("{name} saved", { name: saved.username }));
        state.open = saved.id;
        await reload();
        ctx.lists.directory = await api("GET", "/api/v1/users/directory");
        paintSide();
      }, (err) => showError(f, err, f.querySelector("#user-error")));
    });
    return f;
  }

  // Closing the form gives the table the whole width again.
  const close = () => el("button", { type: "button", class: "ghost", id: "user-close", onclick: () => { state.open = null; paintList(); paintSide(); } }, t("Close"));

  function paintSide() {
    if (state.open !== "new" && !state.rows.some((x) => x.id === state.open)) state.open = null;
    split.classList.toggle("idle", state.open === null);
    if (state.open === null) {
      side.replaceChildren();
      return;
    }
    if (state.open === "new") {
      side.replaceChildren(el("div", { class: "card-head" }, el("h2", {}, t("Add a user")), close()), form(null));
      return;
    }
    const u = state.rows.find((x) => x.id === state.open);
    const pw = el("input", { type: "password", name: "password", id: "reset-password", autocomplete: "new-password", placeholder: t("new password") });
    const pwBox = el("div", { class: "form-grid" }, field(t("Reset the password"), pw),
      el("div", { class: "form-foot" }, el("button", { type: "button", id: "reset-go", onclick: () => act(async () => {
        const done = await api("POST", `/api/v1/users/${u.id}/password`, { password: pw.value });
        pw.value = "";
        toast(done.sessions_ended
          ? t("New password set for {name}; {n} session(s) signed out", { name: u.username, n: done.sessions_ended })
          : t("New password set for {name}", { name: u.username }));
      }, (err) => showError(pwBox, err)) }, t("Set password"))));
    const flip = u.active
      ? el("button", { type: "button", class: "danger", id: "user-deactivate", onclick: () => act(async () => {
        if (!confirm(t("Deactivate {name}? They are signed out at once and cannot sign in.", { name: u.username }))) return;
        const done = await api("POST", `/api/v1/users/${u.id}/deactivate`);
        toast(done.open_cases
          ? t("{name} deactivated — {n} open case(s) to reassign", { name: u.username, n: done.open_cases })
          : t("{name} deactivated", { name: u.username }));
        await reload(); paintSide();
      }) }, t("Deactivate"))
      : el("button", { type: "button", class: "good", id: "user-reactivate", onclick: () => act(async () => {
        await api("POST", `/api/v1/users/${u.id}/reactivate`);
        toast(t("{name} may sign in again", { name: u.username }));
        await reload(); paintSide();
      }) }, t("Reactivate"));
    side.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, u.username), u.active ? null : el("span", { class: "chip bad" }, t("deactivated")), close()),
      form(u),
      el("div", { class: "danger-zone" }, pwBox,
        el("div", { class: "row", style: "align-items:center" },
          el("span", { class: "muted small" }, u.open_cases ? t("{n} open case(s)", { n: u.open_cases }) : t("No open cases")), flip)));
  }

  await reload();
  paintSide();
}
