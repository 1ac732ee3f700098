// Digest preview: the email shows in a sandboxed frame (its styles stay inside). The frame takes the email's full
// height, so the page has one scrollbar, not a second one inside the frame. Runs again when the window is resized.
(function () {
  "use strict";

  function fit(frame) {
    var doc = frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    frame.style.height = "0px"; // measure the content, not the current frame
    frame.style.height = doc.documentElement.scrollHeight + "px";
    frame.classList.add("digest-frame--fitted");
  }

  function start() {
    document.querySelectorAll("iframe[data-fit-content]").forEach(function (frame) {
      frame.addEventListener("load", function () { fit(frame); });
      if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit(frame);
      window.addEventListener("resize", function () { fit(frame); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
