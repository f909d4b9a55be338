/* Harbor Console's only script (no inline script anywhere: the Content-Security-Policy forbids it).
 *
 * - Live regions ([data-live], see provisioning/views/live.py) poll with htmx; polls are skipped while the tab is
 *   hidden, and every region refreshes as soon as the tab shows again.
 * - A refreshed region keeps a <details> open or closed as the person left it.
 * - After a failed submit the first field in error gets the focus; a confirmation page focuses its field
 *   (or its button) through the autofocus attribute.
 * - Fields marked data-select-on-focus select their whole value (a new API token, ready to copy).
 * - A list's search box searches as one types (its own htmx trigger): its "change" on leaving the box must not
 *   submit the filters a second time.
 */
(function () {
  "use strict";

  document.addEventListener("htmx:confirm", function (event) {
    var element = event.target;
    if (document.hidden && element instanceof Element && element.hasAttribute("data-live")) {
      event.preventDefault();
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-live]").forEach(function (region) {
      window.htmx.trigger(region, "live-refresh");
    });
  });

  var chosenOpen = {};

  document.addEventListener("click", function (event) {
    var summary = event.target instanceof Element ? event.target.closest("summary") : null;
    var details = summary ? summary.parentElement : null;
    if (details instanceof HTMLDetailsElement && details.id) chosenOpen[details.id] = !details.open;
  });

  document.addEventListener("htmx:afterSettle", function () {
    Object.keys(chosenOpen).forEach(function (id) {
      var details = document.getElementById(id);
      if (details instanceof HTMLDetailsElement) details.open = chosenOpen[id];
    });
  });

  function focusFirstError() {
    var field = document.querySelector(
      ".field-error input:not([type=hidden]), .field-error select, .field-error textarea"
    );
    if (field) {
      field.focus();
      return;
    }
    var alert = document.getElementById("form-alert");
    if (alert) alert.focus();
  }

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof Element && field.matches(".list-controls input[type=search]")) event.stopPropagation();
  }, true);

  function selectWhole(event) {
    var field = event.target;
    if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) field.select();
  }
  document.addEventListener("focusin", selectWhole);
  document.addEventListener("click", selectWhole);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }
})();
