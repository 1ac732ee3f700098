// Search as you type: the header's box, the search page's box and the pickers (core/pickers.py).
// A [data-combobox] holds an input [data-combobox-input] whose results htmx swaps into [data-combobox-list].
// Arrow down/up move through the options, Enter opens (a link) or picks (a picker's button) the highlighted one,
// Escape closes the list. A picker also has a hidden [data-picker-id] that picking fills and typing clears.
(function () {
  "use strict";

  function parts(element) {
    var box = element.closest && element.closest("[data-combobox]");
    if (!box) return null;
    return {
      box: box,
      input: box.querySelector("[data-combobox-input]"),
      list: box.querySelector("[data-combobox-list]"),
      picked: box.querySelector("[data-picker-id]"),
    };
  }

  function options(p) { return Array.prototype.slice.call(p.list.querySelectorAll("[data-combobox-option]")); }

  function highlight(p, index) {
    var all = options(p);
    all.forEach(function (option, i) {
      var on = i === index;
      option.setAttribute("aria-selected", String(on));
      option.classList.toggle("is-active", on);
      if (on) {
        p.input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    });
    if (index < 0) p.input.removeAttribute("aria-activedescendant");
  }

  function activeIndex(p) {
    return options(p).findIndex(function (option) { return option.classList.contains("is-active"); });
  }

  function close(p) {
    p.list.innerHTML = "";
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
  }

  function pick(p, option) {
    p.picked.value = option.dataset.pickId;
    p.input.value = option.dataset.pickLabel;
    close(p);
    p.picked.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // New results: open the list with the first option highlighted, so Enter takes the best match.
  document.addEventListener("htmx:afterSwap", function (event) {
    var p = parts(event.detail.target);
    if (!p || event.detail.target !== p.list) return;
    var count = options(p).length;
    p.input.setAttribute("aria-expanded", String(p.list.children.length > 0));
    highlight(p, count ? 0 : -1);
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("[data-combobox-input]")) return;
    var p = parts(target);
    var all = options(p);
    var index = activeIndex(p);
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      highlight(p, (index + 1) % all.length);
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      highlight(p, index <= 0 ? all.length - 1 : index - 1);
    } else if (event.key === "Escape" && p.list.children.length) {
      event.preventDefault();
      close(p);
    } else if (event.key === "Enter" && index >= 0) {
      event.preventDefault();
      if (p.picked) pick(p, all[index]);
      else all[index].click();
    } else if (event.key === "Enter" && p.picked) {
      event.preventDefault(); // a picker's Enter never submits the form half-filled
    }
  });

  // Typing in a picker forgets the row picked before; the server then reads the typed name.
  document.addEventListener("input", function (event) {
    var p = event.target.matches && event.target.matches("[data-combobox-input]") ? parts(event.target) : null;
    if (p && p.picked) p.picked.value = "";
    if (p && !event.target.value.trim()) close(p);
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("[data-pick-id]");
    var p = option && parts(option);
    if (p && p.picked) {
      event.preventDefault();
      pick(p, option);
      return;
    }
    // A click outside a combobox closes its list.
    document.querySelectorAll("[data-combobox]").forEach(function (box) {
      if (!box.contains(event.target)) {
        var q = parts(box);
        if (q.list.children.length) close(q);
      }
    });
  });
})();
