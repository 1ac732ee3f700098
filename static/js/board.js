// Pipeline board and opportunity page behaviour. Plain JavaScript on top of htmx and SortableJS.
// Without JavaScript every action still works: each card has a stage menu (a form), every page form posts.
(function () {
  "use strict";

  // Board: dragging a card to another column posts the move; the server answers with the whole board region,
  // where a refused card is back in its column showing the unmet criteria.
  function setUpColumns(root) {
    if (typeof Sortable === "undefined" || typeof htmx === "undefined") return;
    var lists = root.querySelectorAll ? root.querySelectorAll(".board-column__cards[data-stage]") : [];
    lists.forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: "board",
        sort: false, // the order inside a column is the server's (largest amount first)
        draggable: "[data-card]",
        filter: "a, button, select, textarea, input, summary, label",
        preventOnFilter: false,
        delay: 180, // on touch screens a short press starts a drag, a swipe still scrolls
        delayOnTouchOnly: true,
        touchStartThreshold: 5,
        animation: 150,
        ghostClass: "board-card--ghost",
        chosenClass: "board-card--chosen",
        dragClass: "board-card--drag",
        scroll: true,
        bubbleScroll: true,
        onEnd: function (event) {
          if (event.from === event.to) return;
          moveCard(event.item, event.to.dataset.stage);
        },
      });
    });
  }

  function moveCard(card, stageCode) {
    var token = card.querySelector("input[name=csrfmiddlewaretoken]");
    card.classList.add("board-card--saving");
    htmx.ajax("POST", card.dataset.moveUrl, {
      source: card,
      target: "#board",
      swap: "outerHTML",
      values: {
        stage: stageCode,
        version: card.dataset.version,
        csrfmiddlewaretoken: token ? token.value : "",
      },
    });
  }

  // Opportunity page: saving a criterion in place bumps the opportunity's version; keep the other forms current.
  document.addEventListener("opportunity-version", function (event) {
    var value = event.detail && event.detail.value;
    if (value === undefined) return;
    document.querySelectorAll("form[data-opportunity-form] input[name=version]").forEach(function (input) {
      input.value = value;
    });
  });

  // Checklist: with JavaScript, checkboxes and dates save as soon as they change (their Save buttons hide).
  document.documentElement.classList.add("board-js");

  // Opportunity page: on a narrow screen the stage path scrolls sideways; bring the current stage into view.
  function centreCurrentStage() {
    var path = document.querySelector(".stage-path");
    var current = path && path.querySelector(".stage-path__step--current");
    if (!current || path.scrollWidth <= path.clientWidth) return;
    path.scrollLeft = current.offsetLeft - (path.clientWidth - current.offsetWidth) / 2;
  }

  function start() {
    setUpColumns(document);
    centreCurrentStage();
    window.addEventListener("load", centreCurrentStage); // again once fonts have settled the widths
    var width = window.innerWidth;
    window.addEventListener("resize", function () {
      if (window.innerWidth === width) return; // a phone's address bar showing or hiding is not a new layout
      width = window.innerWidth;
      centreCurrentStage();
    });
    if (typeof htmx !== "undefined") {
      htmx.onLoad(function (element) {
        setUpColumns(element.matches && element.matches(".board-column__cards") ? element.parentNode : element);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
