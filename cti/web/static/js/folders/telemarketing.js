// Telemarketing folder: subject, product, occurrence, action, owner, action date, action status.
import { el } from "../api.js";

export default {
  routine: "telemarketing",
  title: "Telemarketing",
  render({ attention, lists }) {
    const a = attention || {};
    const owners = [el("option", { value: "" }, "—"),
      ...lists.operators.map((o) => el("option", { value: o.id, selected: a.owner_id === o.id }, o.name))];
    return el("div", { class: "grid3" },
      el("label", {}, "Subject", el("input", { name: "subject", value: a.subject || "" })),
      el("label", {}, "Product", el("input", { name: "product", value: a.product || "" })),
      el("label", {}, "Owner", el("select", { name: "owner_id" }, owners)),
      el("label", { class: "wide" }, "Occurrence", el("textarea", { name: "occurrence", rows: 2 }, a.occurrence || "")),
      el("label", {}, "Action", el("input", { name: "action", value: a.action || "" })),
      el("label", {}, "Action date", el("input", { name: "action_date", type: "date", value: a.action_date || "" })),
      el("label", {}, "Action status", el("select", { name: "action_status" },
        ["", "open", "in progress", "done"].map((s) => el("option", { value: s, selected: (a.action_status || "") === s }, s || "—")))));
  },
  collect(node) {
    const v = (name) => node.querySelector(`[name="${name}"]`).value.trim();
    return {
      subject: v("subject") || null,
      product: v("product") || null,
      occurrence: v("occurrence") || null,
      action: v("action") || null,
      owner_id: v("owner_id") ? Number(v("owner_id")) : null,
      action_date: v("action_date") || null,
      action_status: v("action_status") || null,
    };
  },
};
