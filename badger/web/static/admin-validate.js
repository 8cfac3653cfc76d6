// Live validation for admin forms that carry data-validate-url (progressive
// enhancement: without JavaScript the server re-renders the same messages).
// The whole form (minus files) is posted to the JSON endpoint, which answers
// {"valid": bool, "errors": {field: [messages]}}; each message goes into the
// field's existing error slot (#<name>-error, already named by the input's
// aria-describedby), and aria-invalid follows.
(function () {
  "use strict";

  function show(form, errors) {
    form.querySelectorAll("[data-field]").forEach(function (box) {
      var name = box.getAttribute("data-field");
      var slot = document.getElementById(name + "-error");
      var input = form.elements[name];
      var messages = errors[name] || [];
      if (slot) {
        slot.textContent = "";
        messages.forEach(function (text) {
          var p = document.createElement("p");
          p.textContent = text; // never innerHTML: messages echo user input
          slot.appendChild(p);
        });
      }
      if (input && input.setAttribute) {
        if (messages.length) { input.setAttribute("aria-invalid", "true"); }
        else { input.removeAttribute("aria-invalid"); }
      }
    });
    var general = document.getElementById("_form-error");
    if (general) {
      general.textContent = "";
      (errors._form || []).forEach(function (text) {
        var p = document.createElement("p");
        p.textContent = text;
        general.appendChild(p);
      });
    }
  }

  function check(form, status) {
    var data = new FormData(form);
    Array.prototype.slice.call(form.querySelectorAll("input[type=file]")).forEach(function (f) {
      data.delete(f.name);
    });
    fetch(form.getAttribute("data-validate-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json();
    }).then(function (body) {
      show(form, body.errors || {});
      if (status) {
        status.textContent = body.valid ? "No problems found." :
          "Some fields need attention: see the messages beside them.";
      }
    }).catch(function () {
      if (status) { status.textContent = ""; } // the server checks again on submit
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-validate-url]").forEach(function (form) {
      var status = document.getElementById("live-status");
      var timer = null;
      function later() {
        clearTimeout(timer);
        timer = setTimeout(function () { check(form, status); }, 400);
      }
      form.addEventListener("change", later);
      form.addEventListener("focusout", later);
    });
  });
})();
