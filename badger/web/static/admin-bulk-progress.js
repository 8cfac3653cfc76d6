// Keeps the bulk job page's <progress> bar current by polling the job's JSON
// (GET /api/v1/bulk/<id>, the same session); reloads once the job is done so
// the page lists every row.  Without JavaScript a <noscript> meta refresh does it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("bulk-progress");
    if (!box) { return; }
    var state = box.getAttribute("data-status");
    if (state !== "pending" && state !== "running") { return; }
    var url = box.getAttribute("data-status-url");
    function set(id, value) {
      var el = document.getElementById(id);
      if (el) { el.textContent = String(value); }
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          var done = job.issued + job.skipped + job.failed;
          var bar = document.getElementById("bulk-bar");
          if (bar) { bar.max = job.total; bar.value = done; bar.textContent = done + " of " + job.total; }
          set("bulk-count", done + " of " + job.total);
          set("bulk-status", job.status);
          set("bulk-issued", job.issued);
          set("bulk-skipped", job.skipped);
          set("bulk-failed", job.failed);
          if (job.status === "done" || job.status === "failed") { window.location.reload(); }
          else { setTimeout(poll, 1500); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1000);
  });
})();
