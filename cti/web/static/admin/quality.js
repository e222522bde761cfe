// Non-conformities (seed 003, MV_QLYXCAL): the potential ones raised by telemarketing ticket
// actions, each with its source ticket (the attention and its child ticket), for the quality team.
import { api, el, day, when } from "../js/api.js";
import { pageHead, table } from "./ui.js";

const STATUS = { potential: "Potential", confirmed: "Confirmed", dismissed: "Dismissed" };

export default async function quality(main) {
  const { nonconformities } = await api("GET", "/api/v1/nonconformities");
  main.append(
    pageHead("Non-conformities", "Raised by ticket actions flagged for it, while telemarketing.nonconformity_integration is on: potential ones for the quality team to check."),
    el("section", { class: "card" }, table([
      ["Source ticket", (r) => el("span", {}, el("b", {}, `#${r.attention_id}`), el("span", { class: "muted small" }, ` item ${r.child_number}`))],
      ["Occurred", (r) => day(r.occurred_on)],
      ["Subject · occurrence · action", (r) => `${r.subject} · ${r.occurrence} · ${r.action}`],
      ["Description", (r) => r.description],
      ["Operator", (r) => r.operator || "—"],
      ["Status", (r) => el("span", { class: `nc-status ${r.status}` }, STATUS[r.status] || r.status)],
      ["Raised", (r) => when(r.created_at)],
    ], nonconformities, { id: "nc-table", empty: "No non-conformity has been raised.", rowAttrs: (r) => ({ "data-nc": r.id }) })));
}
