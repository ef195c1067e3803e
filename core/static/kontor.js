// Confirm dialogs for forms marked data-confirm (plain or htmx) and for htmx requests with
// hx-confirm. Loaded without defer, so a click before the page has finished loading still asks.
// A dangerous act (data-confirm-type="NAME") gets the danger style and is confirmed only once NAME
// is typed; the typed name goes with the form as confirm_name. data-confirm-option="FIELD" with
// data-confirm-option-label offers a checkbox that sends FIELD=1 when ticked.
(function () {
  function hiddenField(form, name, value) {
    let input = form.querySelector('input[type="hidden"][name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }
  function setUp(dialog, form) {
    const expected = form ? form.getAttribute("data-confirm-type") : null;
    const option = form ? form.getAttribute("data-confirm-option") : null;
    const typed = dialog.querySelector("#confirm-typed");
    const ok = dialog.querySelector('[data-confirm="ok"]');
    const box = dialog.querySelector("#confirm-option-box");
    dialog.classList.toggle("danger", !!expected);
    dialog.querySelector("#confirm-danger").hidden = !expected;
    dialog.querySelector("#confirm-option").hidden = !option;
    typed.value = "";
    box.checked = false;
    ok.disabled = !!expected;
    typed.oninput = function () { ok.disabled = typed.value.trim() !== expected; };
    if (expected) {
      dialog.querySelector("#confirm-expected").textContent = expected;
      dialog.querySelector("#confirm-option-label").textContent = form.getAttribute("data-confirm-option-label") || "";
    }
    return function () {  // after a yes: what the form sends with it
      if (!expected) return;
      hiddenField(form, "confirm_name", typed.value.trim());
      if (option) hiddenField(form, option, box.checked ? "1" : "");
    };
  }
  function ask(message, form) {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || !dialog.showModal) return Promise.resolve(window.confirm(message));
    dialog.querySelector("#confirm-message").textContent = message;
    const apply = setUp(dialog, form);
    dialog.showModal();
    if (form && form.getAttribute("data-confirm-type")) dialog.querySelector("#confirm-typed").focus();
    return new Promise(function (resolve) {
      function done(event) {
        const answer = event.target.getAttribute("data-confirm");
        if (!answer || event.target.disabled) return;
        event.preventDefault();
        dialog.removeEventListener("click", done);
        dialog.close();
        if (answer === "ok") apply();
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
    ask(message, form).then(function (ok) {
      if (!ok) return;
      form.dataset.confirmed = "1";
      form.requestSubmit ? form.requestSubmit() : form.submit();
      delete form.dataset.confirmed;  // the next submit asks again
    });
  }, true);
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question) return;
    event.preventDefault();
    ask(event.detail.question, null).then(function (ok) { if (ok) event.detail.issueRequest(true); });
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
