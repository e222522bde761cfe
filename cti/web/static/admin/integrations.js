// Integrations (admins): webhook endpoints and their deliveries (replay one), and the API keys of
// service accounts. A webhook's secret and an API key are shown once, when made; never again.
import { api, el, when, showError, clearErrors } from "../js/api.js";
import { act, pageHead, table, toast, field, check } from "./ui.js";

const STATUS_CHIP = { pending: "grey", delivered: "ok", dead: "bad" };

export default async function integrations(main) {
  const state = { endpoints: [], events: [], deliveries: [], keys: [], scopes: [], filter: "" };
  const hooks = el("section", { class: "card", id: "webhooks" });
  const sent = el("section", { class: "card", id: "deliveries" });
  const keys = el("section", { class: "card", id: "api-keys" });
  const shown = el("div", { id: "shown-once" });
  main.append(
    pageHead("Integrations", "Webhooks to other systems (a CRM), their deliveries, and API keys. See docs/integrations.md."),
    shown, hooks, sent, keys);

  // A secret or key the admin must copy now: it is not shown again.
  function showOnce(label, value) {
    shown.replaceChildren(el("div", { class: "card once" },
      el("b", {}, label), " (copy it now: it is not shown again) ",
      el("code", { class: "code", id: "shown-value" }, value),
      el("button", { type: "button", class: "ghost", onclick: () => shown.replaceChildren() }, "Done")));
  }

  async function reload() {
    const filter = state.filter ? `?status=${state.filter}` : "";
    const [e, d, k] = await Promise.all([
      api("GET", "/api/v1/webhooks"),
      api("GET", `/api/v1/webhooks/deliveries${filter}`),
      api("GET", "/api/v1/api-keys"),
    ]);
    Object.assign(state, { endpoints: e.endpoints, events: e.events, deliveries: d.deliveries, keys: k.keys, scopes: k.scopes });
    paint();
  }

  function endpointForm() {
    const f = el("form", { id: "webhook-form", class: "form-grid", autocomplete: "off" },
      field("URL", el("input", { name: "url", id: "webhook-url", placeholder: "https://crm.example.com/cti-events" }), "wide"),
      el("div", { class: "wide" }, el("label", {}, "Events", el("input", { type: "hidden", name: "events" })),
        el("div", { class: "checks", id: "webhook-events" }, state.events.map((name) => check(`event-${name}`, name, true)))),
      field("Secret (empty: cti makes one)", el("input", { name: "secret", id: "webhook-secret", autocomplete: "off" }), "wide"),
      el("div", { class: "form-foot wide" }, el("button", { type: "submit", class: "primary", id: "webhook-add" }, "Add the endpoint")));
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      clearErrors(f);
      const body = {
        url: f.elements.url.value.trim(),
        events: state.events.filter((name) => f.elements[`event-${name}`].checked),
      };
      if (f.elements.secret.value) body.secret = f.elements.secret.value;
      act(async () => {
        const made = await api("POST", "/api/v1/webhooks", body);
        showOnce(`The signing secret of endpoint ${made.id}`, made.secret);
        await reload();
      }, (e) => showError(f, e));
    });
    return f;
  }

  function paint() {
    hooks.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, "Webhook endpoints")),
      table([
        ["URL", (e) => el("span", { class: "code" }, e.url)],
        ["Events", (e) => e.events.join(", ")],
        ["Pending", (e) => String(e.pending)],
        ["Dead", (e) => e.dead ? el("span", { class: "chip bad" }, String(e.dead)) : "0"],
        ["", (e) => el("span", {},
          el("button", { type: "button", class: "ghost", onclick: () => act(async () => {
            await api("PATCH", `/api/v1/webhooks/${e.id}`, { active: !e.active });
            await reload();
          }) }, e.active ? "Switch off" : "Switch on"),
          el("button", { type: "button", class: "ghost danger", onclick: () => act(async () => {
            if (!confirm(`Remove ${e.url} and its deliveries?`)) return;
            await api("DELETE", `/api/v1/webhooks/${e.id}`);
            await reload();
          }) }, "Remove"))],
      ], state.endpoints, { id: "webhooks-table", empty: "No endpoint yet.", rowAttrs: (e) => ({ "data-endpoint": String(e.id), class: e.active ? "" : "inactive" }) }),
      endpointForm());

    const filter = el("select", { id: "delivery-filter", onchange: () => { state.filter = filter.value; act(reload); } },
      ["", "pending", "delivered", "dead"].map((s) => el("option", { value: s, selected: s === state.filter }, s || "all")));
    sent.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, "Deliveries"), el("span", { class: "muted small" }, "newest first"), el("div", { class: "spacer" }), filter),
      table([
        ["Event", (d) => el("span", {}, el("b", {}, d.type), el("div", { class: "sub" }, `#${d.event_id} · ${d.key}`))],
        ["Endpoint", (d) => String(d.endpoint_id)],
        ["Status", (d) => el("span", { class: `chip ${STATUS_CHIP[d.status] || "grey"}` }, d.status)],
        ["Tries", (d) => String(d.attempts)],
        ["Last answer", (d) => d.last_error || (d.last_status ? `HTTP ${d.last_status}` : "—")],
        ["When", (d) => d.status === "pending" ? `next ${when(d.next_at)}` : when(d.delivered_at || d.next_at)],
        ["", (d) => d.status === "pending" ? "" : el("button", { type: "button", class: "ghost replay", onclick: () => act(async () => {
          await api("POST", `/api/v1/webhooks/deliveries/${d.id}/replay`);
          toast(`Delivery ${d.id} will be sent again`);
          await reload();
        }) }, "Replay")],
      ], state.deliveries, { id: "deliveries-table", empty: "No delivery.", rowAttrs: (d) => ({ "data-delivery": String(d.id), "data-status": d.status }) }));

    const kf = el("form", { id: "key-form", class: "form-grid", autocomplete: "off" },
      field("Name", el("input", { name: "name", id: "key-name", placeholder: "the CRM" })),
      el("div", { class: "wide" }, el("label", {}, "Scopes", el("input", { type: "hidden", name: "scopes" })),
        el("div", { class: "checks", id: "key-scopes" }, state.scopes.map((s) => check(`scope-${s}`, s, s === "events:read")))),
      el("div", { class: "form-foot wide" }, el("button", { type: "submit", class: "primary", id: "key-add" }, "Make a key")));
    kf.addEventListener("submit", (ev) => {
      ev.preventDefault();
      clearErrors(kf);
      const body = { name: kf.elements.name.value, scopes: state.scopes.filter((s) => kf.elements[`scope-${s}`].checked) };
      act(async () => {
        const made = await api("POST", "/api/v1/api-keys", body);
        showOnce(`The API key "${made.name}"`, made.token);
        await reload();
      }, (e) => showError(kf, e));
    });
    keys.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, "API keys")),
      table([
        ["Name", (k) => el("span", {}, el("b", {}, k.name), el("div", { class: "sub code" }, `cti_${k.prefix}_…`))],
        ["Scopes", (k) => k.scopes.join(", ")],
        ["Made", (k) => when(k.created_at)],
        ["Last used", (k) => when(k.last_used_at)],
        ["", (k) => k.revoked_at ? el("span", { class: "chip bad" }, `revoked ${when(k.revoked_at)}`) : el("button", { type: "button", class: "ghost danger", onclick: () => act(async () => {
          if (!confirm(`Revoke "${k.name}"? It stops working at once.`)) return;
          await api("DELETE", `/api/v1/api-keys/${k.id}`);
          await reload();
        }) }, "Revoke")],
      ], state.keys, { id: "keys-table", empty: "No API key yet.", rowAttrs: (k) => ({ "data-key": String(k.id) }) }),
      kf);
  }

  await reload();
}
