// Non-conformities (seed 003, MV_QLYXCAL): the potential ones raised by telemarketing ticket
// actions, each with its source ticket (the attention and its child ticket), for the quality team.
import { api, el, day, when } from "../js/api.js";
import { t, N_ } from "../js/i18n.js";
import { pageHead, table } from "./ui.js";

const STATUS = { potential: N_("Potential"), confirmed: N_("Confirmed"), dismissed: N_("Dismissed") };

export default async function quality(main) {
  const { nonconformities } = await api("GET", "/api/v1/nonconformities");
  main.append(
    pageHead(t("Non-conformities"), t("Raised by ticket actions flagged for it, while telemarketing.nonconformity_integration is on: potential ones for the quality team to check.")),
    el("section", { class: "card" }, table([
      [t("Source ticket"), (r) => el("span", {}, el("b", {}, `#${r.attention_id}`), el("span", { class: "muted small" }, ` ${t("item {n}", { n: r.child_number })}`))],
      [t("Occurred"), (r) => day(r.occurred_on)],
      [t("Subject · occurrence · action"), (r) => `${r.subject} · ${r.occurrence} · ${r.action}`],
      [t("Description"), (r) => r.description],
      [t("Operator"), (r) => r.operator || "—"],
      [t("Status"), (r) => el("span", { class: `nc-status ${r.status}` }, STATUS[r.status] ? t(STATUS[r.status]) : r.status)],
      [t("Raised"), (r) => when(r.created_at)],
    ], nonconformities, { id: "nc-table", empty: t("No non-conformity has been raised."), rowAttrs: (r) => ({ "data-nc": r.id }) })));
}
