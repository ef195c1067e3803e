// Confirm dialogs for forms marked data-confirm (plain or htmx) and for htmx requests with
// hx-confirm. Loaded without defer, so a click before the page has finished loading still asks.
(function () {
  function ask(message) {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || !dialog.showModal) return Promise.resolve(window.confirm(message));
    dialog.querySelector("#confirm-message").textContent = message;
    dialog.showModal();
    return new Promise(function (resolve) {
      function done(event) {
        const answer = event.target.getAttribute("data-confirm");
        if (!answer) return;
        event.preventDefault();
        dialog.removeEventListener("click", done);
        dialog.close();
        resolve(answer === "ok");
      }
      dialog.addEventListener("click", done);
    });
  }
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const message = form.getAttribute("data-confirm");
    if (!message || form.dataset.confirmed) return;
    event.preventDefault();
    event.stopPropagation();  // htmx must not send the form before the answer
    ask(message).then(function (ok) {
      if (!ok) return;
      form.dataset.confirmed = "1";
      form.requestSubmit ? form.requestSubmit() : form.submit();
      delete form.dataset.confirmed;  // the next submit asks again
    });
  }, true);
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question) return;
    event.preventDefault();
    ask(event.detail.question).then(function (ok) { if (ok) event.detail.issueRequest(true); });
  });
})();

// A form answered with 422 carries its field errors: swap it in like a success.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Behaviour that would otherwise be an inline handler, which the Content-Security-Policy forbids:
// a select that submits its form when changed (the language picker), a button that prints the page.
document.addEventListener("change", function (event) {
  const target = event.target;
  if (target.matches && target.matches("select[data-submit-on-change]") && target.form) {
    target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
  }
});
document.addEventListener("click", function (event) {
  const button = event.target.closest && event.target.closest("[data-print]");
  if (button) window.print();
});
