// SalesFlow page behaviour shared by every page. Plain JavaScript, no framework.
(function () {
  "use strict";

  // Phone navigation: the menu button opens and closes the nav (without JS the nav is simply always shown).
  function setUpNavToggle() {
    var toggle = document.querySelector("[data-nav-toggle]");
    var nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("is-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("is-open")) {
        toggle.setAttribute("aria-expanded", "false");
        nav.classList.remove("is-open");
        toggle.focus();
      }
    });
  }

  // Behaviour named by data attributes instead of inline handlers (the Content-Security-Policy allows no inline
  // script). Delegated from the document, so pieces htmx swaps in later work too.
  //   data-autosubmit   on a <select>: submit its form when the choice changes
  //   data-enter-stays  on an <input>: Enter does not submit the form (a search-as-you-type box)
  //   data-remove-form  on a button or link: remove the enclosing form (an htmx-inserted inline form's "Cancel")
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) target.form.submit();
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target.matches && target.matches("input[data-enter-stays]")) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-remove-form]");
    var form = trigger && trigger.closest("form");
    if (!form) return;
    event.preventDefault();
    form.remove();
  });

  // data-submit-once on a <form>: its submit buttons are disabled once it is sent, so a double tap sends it once.
  // A nicety only: the server recognises a resent form by its one-time token. Re-enabled when the browser shows the
  // page again from its history (back button).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-submit-once]")) return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "true";
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = false; });
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpNavToggle);
  } else {
    setUpNavToggle();
  }
})();
