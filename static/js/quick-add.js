// Quick add and toasts, on every page. Plain JavaScript on top of htmx; without JavaScript the "+" menu's entries
// are links to the full pages and messages show at the top of the next page.
(function () {
  "use strict";

  var TOAST_MS = 5000;

  // A toast: a short message at the bottom of the screen that goes away by itself (and on click).
  function showToast(message, level, url) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast toast--" + (level || "success");
    toast.setAttribute("data-toast", "");
    var text = document.createElement("span");
    text.textContent = message;
    toast.appendChild(text);
    if (url) {
      var link = document.createElement("a");
      link.href = url;
      link.className = "toast__link";
      link.textContent = region.dataset.openLabel || "→";
      toast.appendChild(link);
    }
    region.appendChild(toast);
    var remove = function () { if (toast.parentNode) toast.parentNode.removeChild(toast); };
    toast.addEventListener("click", function (event) { if (event.target.tagName !== "A") remove(); });
    window.setTimeout(remove, TOAST_MS);
  }

  // The server asks for a toast with an HX-Trigger header: {"sf-toast": {"message": ..., "level": ..., "url": ...}}.
  document.addEventListener("sf-toast", function (event) {
    var detail = event.detail || {};
    showToast(detail.message, detail.level, detail.url);
  });

  function dialog() { return document.getElementById("quick-add"); }

  function closeMenus() {
    document.querySelectorAll("details[data-quick-add-menu][open]").forEach(function (menu) { menu.open = false; });
  }

  // htmx loaded a form into the dialog (first time or with its errors): open it, focus the first field or error.
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = dialog();
    if (!box || event.detail.target.id !== "quick-add-body") return;
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Reswap") === "none") return; // a success: "sf-added" closed the dialog
    closeMenus();
    if (!box.open) box.showModal();
    var first = box.querySelector(".field--error input, .field--error select, .field--error textarea") ||
      box.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });

  document.addEventListener("click", function (event) {
    if (!(event.target.closest && event.target.closest("[data-quick-add-menu]"))) closeMenus(); // a click elsewhere
    var closer = event.target.closest && event.target.closest("[data-dialog-close]");
    var box = dialog();
    if (closer && box && box.contains(closer)) {
      box.close();
      return;
    }
    if (box && event.target === box) box.close(); // a click on the backdrop
  });

  document.addEventListener("close", function (event) {
    if (event.target === dialog()) document.getElementById("quick-add-body").innerHTML = "";
  }, true);

  // A quick add succeeded: close the dialog and show the new row in place. On the board a new opportunity's card
  // appears in its column (the board region is drawn again with the current filters) and is highlighted.
  document.addEventListener("sf-added", function (event) {
    var detail = event.detail || {};
    var box = dialog();
    if (box && box.open) box.close();
    // Elsewhere a section that lists such rows (data-refresh-on-added="contact") is drawn again from this page's URL.
    document.querySelectorAll("[data-refresh-on-added]").forEach(function (section) {
      if (!section.id || section.dataset.refreshOnAdded.split(" ").indexOf(detail.kind) < 0) return;
      if (typeof htmx === "undefined") return;
      htmx.ajax("GET", window.location.pathname + window.location.search, {
        target: "#" + section.id, select: "#" + section.id, swap: "outerHTML",
      });
    });
    var board = document.getElementById("board");
    if (board && detail.kind === "opportunity" && typeof htmx !== "undefined") {
      htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#board", swap: "outerHTML" })
        .then(function () {
          var card = document.getElementById("card-" + detail.pk);
          if (!card) return;
          card.classList.add("board-card--new");
          card.scrollIntoView({ block: "nearest", inline: "nearest" });
        });
    }
  });

  // Escape closes an open "+" menu.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus();
  });
})();
