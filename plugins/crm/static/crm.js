// The pipeline board: cards dragged between stage columns post the stage change through htmx;
// the server answers with the affected columns (out-of-band swaps). Every card also has a plain
// form (stage select + Move) that works by keyboard and without JavaScript.
(function () {
  "use strict";

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function reloadBoard() {
    const board = document.getElementById("board");
    if (!board || !window.htmx) return;
    window.htmx.ajax("GET", board.dataset.boardUrl, {target: "#board", select: "#board", swap: "outerHTML"});
  }

  function askLostReason() {
    const dialog = document.getElementById("lost-dialog");
    if (!dialog || !dialog.showModal) {
      const answer = window.prompt(document.getElementById("lost-dialog-title")?.textContent || "Lost reason");
      return Promise.resolve(answer && answer.trim() ? answer.trim() : null);
    }
    const form = document.getElementById("lost-dialog-form");
    const input = document.getElementById("lost-dialog-reason");
    input.value = "";
    dialog.showModal();
    input.focus();
    return new Promise(function (resolve) {
      function finish(value) {
        form.removeEventListener("submit", onSubmit);
        cancel.removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onCancel);
        if (dialog.open) dialog.close();
        resolve(value);
      }
      function onSubmit(event) {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) { input.focus(); return; }
        finish(value);
      }
      function onCancel(event) { event.preventDefault(); finish(null); }
      const cancel = form.querySelector("[data-lost-cancel]");
      form.addEventListener("submit", onSubmit);
      cancel.addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onCancel);
    });
  }

  function moveCard(card, list) {
    const values = {stage_id: list.dataset.stageId, from: "board", csrf_token: csrfToken()};
    const send = function (reason) {
      if (reason !== undefined) values.lost_reason = reason;
      window.htmx.ajax("POST", card.dataset.stageUrl, {
        source: card, swap: "none", values: values, headers: {"X-CSRFToken": csrfToken()},
      });
    };
    if (list.dataset.lost === "1") {
      askLostReason().then(function (reason) {
        if (reason === null) { reloadBoard(); return; }
        send(reason);
      });
    } else {
      send();
    }
  }

  function initColumns(root) {
    const board = document.getElementById("board");
    if (!window.Sortable || !board || board.dataset.canMove !== "1") return;  // read-only users see, not move
    root.querySelectorAll(".board-cards").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      window.Sortable.create(list, {
        group: "crm-board",
        draggable: ".board-card",
        filter: "select, input, button, .board-more",
        preventOnFilter: false,
        animation: 120,
        forceFallback: true,  // pointer events: the same on mouse, touch and pen
        fallbackTolerance: 4,
        onEnd: function (event) {
          if (event.from === event.to) return;
          moveCard(event.item, event.to);
        },
      });
    });
  }

  // Export links follow the filters the list shows now (htmx updates the address bar).
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-export]");
    if (!link) return;
    const params = new URLSearchParams(window.location.search);
    params.delete("after");
    params.set("format", link.dataset.export);
    link.href = window.location.pathname + "?" + params.toString();
  });

  function start() {
    initColumns(document);
    document.body.addEventListener("htmx:load", function (event) {
      const root = event.detail.elt;
      if (root.classList && root.classList.contains("board-cards")) initColumns(root.parentNode);
      else if (root.querySelectorAll) initColumns(root.closest ? (root.closest("#board") || root) : root);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
