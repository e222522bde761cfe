// Preview dialing: the agent sees the next lead of a running preview campaign of their queues,
// then dials it (the agent's own phone rings first, the customer is called once they pick up) or
// skips it.
import { api, ApiError, el, money, day } from "./api.js";
import { t } from "./i18n.js";

export class PreviewCard {
  constructor(root, toast) {
    this.root = root;
    this.toast = toast;
    this.campaigns = [];
    this.lead = null; // {lead, campaign, debts}
  }

  async load() {
    try {
      this.campaigns = (await api("GET", "/api/v1/desk/campaigns")).campaigns;
    } catch {
      this.campaigns = [];
    }
    this.render();
  }

  selected() {
    const sel = this.root.querySelector("#preview-campaign");
    return sel ? Number(sel.value) : this.campaigns[0]?.id;
  }

  async next() {
    await this.run(async () => {
      const res = await api("POST", `/api/v1/campaigns/${this.selected()}/preview/next`, {});
      this.lead = res.lead;
      if (!this.lead) this.toast(t("No lead may be called now in this campaign."));
    });
  }

  async dial() {
    const { lead, campaign } = this.lead;
    await this.run(async () => {
      await api("POST", `/api/v1/campaigns/${campaign.id}/preview/${lead.id}/dial`, {});
      this.toast(t("Dialling {who}: your phone rings first, then the customer's.", { who: lead.name || lead.phone }));
      this.lead = null;
    });
  }

  async skip() {
    const { lead, campaign } = this.lead;
    await this.run(async () => {
      await api("POST", `/api/v1/campaigns/${campaign.id}/preview/${lead.id}/skip`, {});
      this.lead = null;
    });
  }

  async run(fn) {
    try { await fn(); } catch (e) { this.toast(e instanceof ApiError ? e.message : String(e), true); }
    this.render();
  }

  render() {
    this.root.classList.toggle("hidden", this.campaigns.length === 0);
    if (!this.campaigns.length) return;
    const head = el("div", { class: "row", style: "align-items:center;gap:8px;margin-bottom:8px" },
      el("h2", {}, t("Campaign calls")),
      this.campaigns.length > 1
        ? el("select", { id: "preview-campaign", "aria-label": t("Campaign") },
            ...this.campaigns.map((c) => el("option", { value: c.id }, c.name)))
        : el("span", { class: "muted small" }, this.campaigns[0].name));
    if (!this.lead) {
      this.root.replaceChildren(head,
        el("button", { type: "button", id: "preview-next", class: "primary", onclick: () => this.next() }, t("Next lead")));
      return;
    }
    const { lead, debts } = this.lead;
    const total = (debts || []).reduce((sum, d) => sum + Number(d.amount), 0);
    this.root.replaceChildren(head,
      el("div", { class: "preview-lead", dataset: { lead: lead.id } },
        el("div", { class: "who" }, el("b", {}, lead.name || "—"), " ", el("span", { class: "muted" }, lead.phone)),
        el("div", { class: "muted small" }, `${t("attempts {n}", { n: lead.attempts })}${lead.timezone ? ` · ${lead.timezone}` : ""}`),
        debts?.length
          ? el("div", { class: "small" }, t(debts.length === 1 ? "1 overdue invoice, {total} · oldest due {day}" : "{n} overdue invoices, {total} · oldest due {day}", { n: debts.length, total: money(total), day: day(debts[0].due_on) }))
          : null),
      el("div", { class: "row", style: "gap:8px;margin-top:8px" },
        el("button", { type: "button", id: "preview-dial", class: "good", onclick: () => this.dial() }, t("Dial")),
        el("button", { type: "button", id: "preview-skip", class: "ghost", onclick: () => this.skip() }, t("Skip"))));
  }
}
