// Renders the decision payloads the bot attaches to its replies ({"custom": {"decision": {...}}}, see
// policy_engine/core/decision.py Decision.widget_payload) as a list beside the chat: outcome, reason codes, clause IDs,
// case number, next steps with due dates, policy version. Plain DOM, no framework; text only (no innerHTML).
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function row(list, label, value) {
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) {
      return;
    }
    list.appendChild(el("dt", null, label));
    list.appendChild(el("dd", null, Array.isArray(value) ? value.join(", ") : value));
  }

  function render(decision) {
    var item = el("li", "decision outcome-" + decision.outcome);
    item.setAttribute("data-topic", decision.topic || "");
    item.setAttribute("data-outcome", decision.outcome || "");
    if (decision.case_id) { item.setAttribute("data-case-id", decision.case_id); }
    item.appendChild(el("h3", null, (decision.topic || "decision") + ": " + String(decision.outcome || "").replace(/_/g, " ")));
    var details = el("dl");
    row(details, "Case", decision.case_id);
    row(details, "Reasons", decision.reasons);
    row(details, "Clauses", decision.clauses);
    row(details, "Still needed", decision.missing);
    (decision.next_steps || []).forEach(function (step) {
      row(details, "Next step", step.code + (step.due ? " (by " + step.due + ")" : "") +
        (step.clause ? " [" + step.clause + "]" : ""));
    });
    row(details, "Policy version", decision.policy_version);
    item.appendChild(details);
    return item;
  }

  window.DecisionPanel = {
    show: function (message) {
      var decision = message && message.custom && message.custom.decision;
      if (!decision) { return; }
      var panel = document.getElementById("decision-panel");
      var empty = panel.querySelector(".empty");
      if (empty) { empty.remove(); }
      var list = document.getElementById("decisions");
      list.insertBefore(render(decision), list.firstChild);
    }
  };
})();
