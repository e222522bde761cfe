// Transfers from the desk: the dialog that picks a free agent, a queue or a number, transfers
// the caller at once (blind) or consults first (attended: the caller on hold, then Complete or
// Cancel); and, on the receiving desk's pop, who transferred the call and their attention so far.
import { api, el, when } from "./api.js";
import { t, N_ } from "./i18n.js";

const $ = (id) => document.getElementById(id);

// What the pop of a transferred call says above the caller's details.
export const TRANSFER_STATUS = {
  transfer: [N_("Transfer for you"), "warn"],
  transfer_cancelled: [N_("Transfer cancelled"), "grey"],
};

// The receiving agent's view of the transferring agent's attention and its notes.
export function renderTransferNote(pop) {
  const xfer = pop.transfer;
  if (!xfer) return null;
  const a = xfer.attention;
  const notes = a?.notes || [];
  return el("div", { class: "xfer-note", id: "pop-transfer" },
    el("div", { class: "row" },
      el("b", {}, pop.status === "transfer" && xfer.kind === "attended" ? t("{name} consults you about this caller", { name: xfer.from }) : t("Transferred by {name}", { name: xfer.from })),
      a ? el("span", { class: "small muted" }, t("attention #{id} · {status}", { id: a.id, status: t(a.status) })) : ""),
    notes.length
      ? el("ul", { class: "list" }, notes.map((n) =>
        el("li", {}, el("div", {}, n.text), el("div", { class: "small muted" }, `${n.author || ""} · ${when(n.at)}`))))
      : el("div", { class: "small muted" }, t("No notes yet.")));
}

export function mountTransfer({ toast, act }) {
  const box = $("xfer");
  const state = { kind: "agent", agentId: null, consulting: null, poll: null };

  const setKind = (kind) => {
    state.kind = kind;
    for (const b of box.querySelectorAll("[data-kind]")) b.setAttribute("aria-selected", String(b.dataset.kind === kind));
    $("xfer-agents").classList.toggle("hidden", kind !== "agent");
    $("xfer-queue-box").classList.toggle("hidden", kind !== "queue");
    $("xfer-number-box").classList.toggle("hidden", kind !== "number");
  };

  const target = () => {
    if (state.kind === "agent") {
      if (state.agentId == null) throw new Error(t("Pick an agent who is free"));
      return { kind: "agent", agent_id: state.agentId };
    }
    if (state.kind === "queue") return { kind: "queue", queue: $("xfer-queue").value };
    const number = $("xfer-number").value.trim();
    if (!number) throw new Error(t("Type the number to call"));
    return { kind: "number", number };
  };

  const paintAgents = (agents) => {
    const list = $("xfer-agents");
    list.replaceChildren();
    if (!agents.length) list.append(el("div", { class: "muted small" }, t("Nobody is free right now.")));
    for (const a of agents) {
      const b = el("button", { type: "button", class: "xfer-agent", "data-agent": a.user_id, "aria-pressed": String(a.user_id === state.agentId) },
        el("span", { class: "dot" }), a.name);
      b.onclick = () => { state.agentId = a.user_id; paintAgents(agents); };
      list.append(b);
    }
  };

  const paintConsult = (s) => {
    state.consulting = s.phase === "consulting" ? s : null;
    $("xfer-pick").classList.toggle("hidden", !!state.consulting);
    $("xfer-consult").classList.toggle("hidden", !state.consulting);
    if (state.consulting) {
      $("xfer-with").textContent = s.target.label;
      $("xfer-line").textContent = s.target_up
        ? t("You are talking to them; the caller is on hold.")
        : t("No longer on the line: cancel to go back to the caller.");
      $("xfer-complete").disabled = !s.target_up;
    }
  };

  const refresh = async () => paintConsult(await api("GET", "/api/v1/desk/transfer"));

  const open = async () => {
    box.classList.remove("hidden");
    const [targets, s] = await Promise.all([api("GET", "/api/v1/desk/transfer/targets"), api("GET", "/api/v1/desk/transfer")]);
    if (!targets.agents.some((a) => a.user_id === state.agentId)) state.agentId = null;
    paintAgents(targets.agents);
    $("xfer-queue").replaceChildren(...targets.queues.map((q) => el("option", { value: q }, q)));
    paintConsult(s);
    clearInterval(state.poll);
    state.poll = setInterval(() => act(refresh), 1000);
  };
  const close = () => { box.classList.add("hidden"); clearInterval(state.poll); };

  for (const b of box.querySelectorAll("[data-kind]")) b.onclick = () => setKind(b.dataset.kind);
  setKind("agent");
  $("transfer-open").onclick = () => act(open);
  $("xfer-close").onclick = close;
  $("xfer-consult-go").onclick = () => act(async () => {
    paintConsult(await api("POST", "/api/v1/desk/transfer/consult", target()));
  });
  $("xfer-blind").onclick = () => act(async () => {
    await api("POST", "/api/v1/desk/transfer/blind", target());
    close();
    toast(t("Call transferred"));
  });
  $("xfer-complete").onclick = () => act(async () => {
    const to = state.consulting?.target.label;
    await api("POST", "/api/v1/desk/transfer/complete");
    close();
    toast(t("Call transferred to {name}", { name: to }));
  });
  $("xfer-cancel").onclick = () => act(async () => {
    await api("POST", "/api/v1/desk/transfer/cancel");
    close();
    toast(t("Transfer cancelled: you are back with the caller"));
  });

  // The desk repaints: Transfer… only with a call up; the dialog goes with the call.
  return {
    paint(desk) {
      const onCall = !!desk.timer;
      $("transfer-open").disabled = !onCall;
      if (!onCall && !box.classList.contains("hidden")) close();
    },
  };
}
