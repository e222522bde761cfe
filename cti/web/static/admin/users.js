// Users (admins): who works here, with which role, routines, group, phone and personal-data
// permission; add, change, reset a password, deactivate (signs them out) and reactivate.
import { api, el, showError, clearErrors } from "../js/api.js";
import { act, pageHead, table, toast, field, check } from "./ui.js";

const ROUTINES = ["telemarketing", "telesales", "collection"];
const ROLES = ["operator", "supervisor", "admin"];

export default async function users(main, ctx) {
  const state = { rows: [], open: null, groups: [] };
  const list = el("section", { class: "card" });
  const side = el("aside", { class: "card sticky", id: "user-side" });
  const showInactive = el("input", { type: "checkbox", id: "show-inactive", onchange: () => paintList() });

  main.append(
    pageHead("Users", "Operators, supervisors and admins: what each may do and where their phone is.",
      el("label", { class: "check" }, showInactive, "Show deactivated"),
      el("button", { type: "button", class: "primary", id: "user-new", onclick: () => { state.open = "new"; paintList(); paintSide(); } }, "Add a user")),
    el("div", { class: "split" }, list, side));

  async function reload() {
    [state.rows, state.groups] = await Promise.all([api("GET", "/api/v1/users"), api("GET", "/api/v1/config/attention-groups")]);
    paintList();
  }

  function paintList() {
    const rows = state.rows.filter((u) => u.active || showInactive.checked);
    list.replaceChildren(table([
      ["User", (u) => el("span", {}, el("b", {}, u.username), el("div", { class: "sub" }, u.full_name || "—"))],
      ["Role", (u) => el("span", { class: `chip role-chip ${u.role}` }, u.role)],
      ["Routines", (u) => u.routines.length ? u.routines.join(", ") : el("span", { class: "muted" }, "—")],
      ["Group", (u) => u.group || el("span", { class: "muted" }, "—")],
      ["Phone", (u) => u.interface ? el("span", {}, u.interface, el("div", { class: "sub" }, u.softphone ? `ext. ${u.extension || "—"} · browser phone` : `ext. ${u.extension || "—"}`)) : el("span", { class: "muted" }, "—")],
      ["Personal data", (u) => u.personal_data ? el("span", { class: "chip ok" }, "allowed") : u.group_personal_data ? el("span", { class: "chip ok" }, "by group") : el("span", { class: "chip grey" }, "masked")],
      ["", (u) => el("span", {},
        !u.active ? el("span", { class: "chip bad" }, "deactivated") : u.signed_in ? el("span", { class: "chip ok" }, el("span", { class: "dot" }), "signed in") : "",
        u.weak_password ? el("span", { class: "chip bad weak-password", title: "Their password breaks the password rule: reset it" }, "weak password") : "")],
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
      isNew ? field("User name", el("input", { name: "username", id: "user-username", placeholder: "one word, e.g. maria" })) : null,
      isNew ? field("Password", el("input", { name: "password", id: "user-password", type: "password", autocomplete: "new-password", placeholder: "at least 10 characters, not a common one" })) : null,
      field("Full name", el("input", { name: "full_name", id: "user-full_name", value: u.full_name || "" }), "wide"),
      field("Role", el("select", { name: "role", id: "user-role" }, ROLES.map((r) => el("option", { value: r, selected: r === u.role }, r)))),
      field("Attention group", el("select", { name: "group", id: "user-group" }, el("option", { value: "" }, "— none —"),
        state.groups.map((g) => el("option", { value: g.name, selected: g.name === u.group }, `${g.name} (ideal ${g.ideal_talk_seconds} s)`)))),
      el("div", { class: "wide" }, el("label", {}, "Routines (an operator needs at least one)",
        el("input", { type: "hidden", name: "routines" })),
      el("div", { class: "checks", id: "user-routines" }, ROUTINES.map((r) => check(`routine-${r}`, r, u.routines.includes(r))))),
      field("Extension", el("input", { name: "extension", id: "user-extension", value: u.extension || "", placeholder: "1001" })),
      field("Interface", el("input", { name: "interface", id: "user-interface", value: isNew ? "" : u.interface || "", placeholder: "PJSIP/1001 (from the extension)" })),
      el("div", { class: "wide" }, check("softphone", "Phone in the browser (the desk's softphone: no SIP phone to set up)", u.softphone)),
      el("div", { class: "wide" }, check("personal_data", "May see personal data unmasked (LGPD/GDPR)", u.personal_data)),
      el("div", { class: "wide form-foot" }, el("span", { class: "error", id: "user-error" }),
        el("button", { type: "submit", class: "primary", id: "user-save" }, isNew ? "Add user" : "Save changes")));
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
        toast(isNew ? `${saved.username} added` : `${saved.username} saved`);
        state.open = saved.id;
        await reload();
        ctx.lists.directory = await api("GET", "/api/v1/users/directory");
        paintSide();
      }, (err) => showError(f, err, f.querySelector("#user-error")));
    });
    return f;
  }

  function paintSide() {
    if (state.open === "new") {
      side.replaceChildren(el("div", { class: "card-head" }, el("h2", {}, "Add a user")), form(null));
      return;
    }
    const u = state.rows.find((x) => x.id === state.open);
    if (!u) {
      side.replaceChildren(el("div", { class: "placeholder" }, el("div", {}, el("div", { style: "font-size:28px" }, "☺"), "Pick a user to change them,", el("br"), "or add a new one.")));
      return;
    }
    const pw = el("input", { type: "password", name: "password", id: "reset-password", autocomplete: "new-password", placeholder: "new password" });
    const pwBox = el("div", { class: "form-grid" }, field("Reset the password", pw),
      el("div", { class: "form-foot" }, el("button", { type: "button", id: "reset-go", onclick: () => act(async () => {
        const done = await api("POST", `/api/v1/users/${u.id}/password`, { password: pw.value });
        pw.value = "";
        toast(`New password set for ${u.username}${done.sessions_ended ? `; ${done.sessions_ended} session(s) signed out` : ""}`);
      }, (err) => showError(pwBox, err)) }, "Set password")));
    const flip = u.active
      ? el("button", { type: "button", class: "danger", id: "user-deactivate", onclick: () => act(async () => {
        if (!confirm(`Deactivate ${u.username}? They are signed out at once and cannot sign in.`)) return;
        const done = await api("POST", `/api/v1/users/${u.id}/deactivate`);
        toast(`${u.username} deactivated${done.open_cases ? ` — ${done.open_cases} open case(s) to reassign` : ""}`);
        await reload(); paintSide();
      }) }, "Deactivate")
      : el("button", { type: "button", class: "good", id: "user-reactivate", onclick: () => act(async () => {
        await api("POST", `/api/v1/users/${u.id}/reactivate`);
        toast(`${u.username} may sign in again`);
        await reload(); paintSide();
      }) }, "Reactivate");
    side.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, u.username), u.active ? null : el("span", { class: "chip bad" }, "deactivated")),
      form(u),
      el("div", { class: "danger-zone" }, pwBox,
        el("div", { class: "row", style: "align-items:center" },
          el("span", { class: "muted small" }, u.open_cases ? `${u.open_cases} open case(s)` : "No open cases"), flip)));
  }

  await reload();
  paintSide();
}
