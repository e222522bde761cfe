// Integrations (admins): webhook endpoints and their deliveries (replay one), and the API keys of
// service accounts. A webhook's secret and an API key are shown once, when made; never again.
import { api, el, when, showError, clearErrors } from "../js/api.js";
import { t } from "../js/i18n.js";
import { act, pageHead, table, toast, field, check } from "./ui.js";

const STATUS_CHIP = { pending: "grey", delivered: "ok", dead: "bad" };

export default async function integrations(main) {
  const state = { endpoints: [], events: [], deliveries: [], keys: [], scopes: [], filter: "" };
  const hooks = el("section", { class: "card", id: "webhooks" });
  const sent = el("section", { class: "card", id: "deliveries" });
  const keys = el("section", { class: "card", id: "api-keys" });
  const shown = el("div", { id: "shown-once" });
  main.append(
    pageHead(t("Integrations"), t("Webhooks to other systems (a CRM), their deliveries, and API keys. See docs/integrations.md.")),
    shown, hooks, sent, keys);

  // A secret or key the admin must copy now: it is not shown again.
  function showOnce(label, value) {
    shown.replaceChildren(el("div", { class: "card once" },
      el("b", {}, label), ` (${t("copy it now: it is not shown again")}) `,
      el("code", { class: "code", id: "shown-value" }, value),
      el("button", { type: "button", class: "ghost", onclick: () => shown.replaceChildren() }, t("Done"))));
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
      el("div", { class: "wide" }, el("label", {}, t("Events"), el("input", { type: "hidden", name: "events" })),
        el("div", { class: "checks", id: "webhook-events" }, state.events.map((name) => check(`event-${name}`, name, true)))),
      field(t("Secret (empty: cti makes one)"), el("input", { name: "secret", id: "webhook-secret", autocomplete: "off" }), "wide"),
      el("div", { class: "form-foot wide" }, el("button", { type: "submit", class: "primary", id: "webhook-add" }, t("Add the endpoint"))));
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
        showOnce(t("The signing secret of endpoint {id}", { id: made.id }), made.secret);
        await reload();
      }, (e) => showError(f, e));
    });
    return f;
  }

  function paint() {
    hooks.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, t("Webhook endpoints"))),
      table([
        ["URL", (e) => el("span", { class: "code" }, e.url)],
        [t("Events"), (e) => e.events.join(", ")],
        [t("Pending"), (e) => String(e.pending)],
        [t("Dead"), (e) => e.dead ? el("span", { class: "chip bad" }, String(e.dead)) : "0"],
        ["", (e) => el("span", {},
          el("button", { type: "button", class: "ghost", onclick: () => act(async () => {
            await api("PATCH", `/api/v1/webhooks/${e.id}`, { active: !e.active });
            await reload();
          }) }, e.active ? t("Switch off") : t("Switch on")),
          el("button", { type: "button", class: "ghost danger", onclick: () => act(async () => {
            if (!confirm(t("Remove {url} and its deliveries?", { url: e.url }))) return;
            await api("DELETE", `/api/v1/webhooks/${e.id}`);
            await reload();
          }) }, t("Remove")))],
      ], state.endpoints, { id: "webhooks-table", empty: t("No endpoint yet."), rowAttrs: (e) => ({ "data-endpoint": String(e.id), class: e.active ? "" : "inactive" }) }),
      endpointForm());

    const filter = el("select", { id: "delivery-filter", onchange: () => { state.filter = filter.value; act(reload); } },
      ["", "pending", "delivered", "dead"].map((s) => el("option", { value: s, selected: s === state.filter }, s ? t(s) : t("all"))));
    sent.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, t("Deliveries")), el("span", { class: "muted small" }, t("newest first")), el("div", { class: "spacer" }), filter),
      table([
        [t("Event"), (d) => el("span", {}, el("b", {}, d.type), el("div", { class: "sub" }, `#${d.event_id} · ${d.key}`))],
        [t("Endpoint"), (d) => String(d.endpoint_id)],
        [t("Status"), (d) => el("span", { class: `chip ${STATUS_CHIP[d.status] || "grey"}` }, t(d.status))],
        [t("Tries"), (d) => String(d.attempts)],
        [t("Last answer"), (d) => d.last_error || (d.last_status ? `HTTP ${d.last_status}` : "—")],
        [t("When"), (d) => d.status === "pending" ? t("next {when}", { when: when(d.next_at) }) : when(d.delivered_at || d.next_at)],
        ["", (d) => d.status === "pending" ? "" : el("button", { type: "button", class: "ghost replay", onclick: () => act(async () => {
          await api("POST", `/api/v1/webhooks/deliveries/${d.id}/replay`);
          toast(t("Delivery {id} will be sent again", { id: d.id }));
          await reload();
        }) }, t("Replay"))],
      ], state.deliveries, { id: "deliveries-table", empty: t("No delivery."), rowAttrs: (d) => ({ "data-delivery": String(d.id), "data-status": d.status }) }));

    const kf = el("form", { id: "key-form", class: "form-grid", autocomplete: "off" },
      field(t("Name"), el("input", { name: "name", id: "key-name", placeholder: t("the CRM") })),
      el("div", { class: "wide" }, el("label", {}, t("Scopes"), el("input", { type: "hidden", name: "scopes" })),
        el("div", { class: "checks", id: "key-scopes" }, state.scopes.map((s) => check(`scope-${s}`, s, s === "events:read")))),
      el("div", { class: "form-foot wide" }, el("button", { type: "submit", class: "primary", id: "key-add" }, t("Make a key"))));
    kf.addEventListener("submit", (ev) => {
      ev.preventDefault();
      clearErrors(kf);
      const body = { name: kf.elements.name.value, scopes: state.scopes.filter((s) => kf.elements[`scope-${s}`].checked) };
      act(async () => {
        const made = await api("POST", "/api/v1/api-keys", body);
        showOnce(t("The API key \"{name}\"", { name: made.name }), made.token);
        await reload();
      }, (e) => showError(kf, e));
    });
    keys.replaceChildren(
      el("div", { class: "card-head" }, el("h2", {}, t("API keys"))),
      table([
        [t("Name"), (k) => el("span", {}, el("b", {}, k.name), el("div", { class: "sub code" }, `cti_${k.prefix}_…`))],
        [t("Scopes"), (k) => k.scopes.join(", ")],
        [t("Made"), (k) => when(k.created_at)],
        [t("Last used"), (k) => when(k.last_used_at)],
        ["", (k) => k.revoked_at ? el("span", { class: "chip bad" }, t("revoked {when}", { when: when(k.revoked_at) })) : el("button", { type: "button", class: "ghost danger", onclick: () => act(async () => {
          if (!confirm(t("Revoke \"{name}\"? It stops working at once.", { name: k.name }))) return;
          await api("DELETE", `/api/v1/api-keys/${k.id}`);
          await reload();
        }) }, t("Revoke"))],
      ], state.keys, { id: "keys-table", empty: t("No API key yet."), rowAttrs: (k) => ({ "data-key": String(k.id) }) }),
      kf);
  }

  await reload();
}
