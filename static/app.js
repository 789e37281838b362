// Progressive enhancement only: every action also works as a plain form post.
(function () {
  "use strict";

  // A refused action answers 4xx with a message to show (next to the field, or in #notice),
  // so let htmx swap those responses in; 5xx and network failures get the generic message below.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }

  // Characters as the server counts them: NFC, whitespace runs collapsed, trimmed, code points.
  function countChars(text) {
    return Array.from(text.normalize("NFC").replace(/\s+/g, " ").trim()).length;
  }

  function initCounter(area) {
    var out = document.getElementById(area.dataset.counter);
    var live = document.getElementById(area.dataset.live);
    if (!out) return;
    var max = parseInt(area.dataset.max, 10);
    var timer = null;
    function update() {
      var left = max - countChars(area.value);
      var template = left >= 0 ? out.dataset.left : out.dataset.over;
      out.textContent = template.replace("{n}", String(Math.abs(left)));
      out.classList.toggle("over", left < 0);
      out.classList.toggle("near", left >= 0 && left <= 20);
      // Screen readers hear the count only after a pause and only near or over the limit.
      if (live) {
        clearTimeout(timer);
        timer = setTimeout(function () { live.textContent = left <= 20 ? out.textContent : ""; }, 900);
      }
    }
    area.addEventListener("input", update);
    update();
  }

  function initCounters(root) {
    if (root.matches && root.matches("textarea[data-max]")) initCounter(root);
    root.querySelectorAll("textarea[data-max]").forEach(initCounter);
  }

  function showError(nearElt, text) {
    var slot = document.getElementById("notice");
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    if (slot) {
      slot.replaceChildren(p);
    } else if (nearElt && nearElt.closest("form")) {
      var form = nearElt.closest("form");
      form.parentNode.insertBefore(p, form);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    initCounters(document);
    if (!window.htmx) return;

    htmx.onLoad(function (elt) {
      if (elt === document.body) return; // first page load: leave focus where the browser puts it
      initCounters(elt);
      // After a swap, move focus to the new content (the next statement, the field with an error,
      // the confirmation) so keyboard and screen-reader users continue from there.
      var target = elt.matches("[data-focus]") ? elt : elt.querySelector("[data-focus]");
      if (target) target.focus();
    });

    // A new attempt clears the previous error.
    document.body.addEventListener("htmx:beforeRequest", function () {
      var slot = document.getElementById("notice");
      if (slot) slot.replaceChildren();
    });

    function failed(evt) {
      showError(evt.detail.elt, document.body.dataset.errorText || "Something went wrong.");
    }
    document.body.addEventListener("htmx:responseError", failed);
    document.body.addEventListener("htmx:sendError", failed);
  });

  // Optional shortcuts on the statement card: a = agree, d = disagree, p = pass.
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.key.length !== 1) return;
    var t = e.target;
    if (t && t.closest && t.closest("input, textarea, select, [contenteditable]")) return;
    var button = document.querySelector('#card button[data-key="' + e.key.toLowerCase() + '"]');
    if (button) {
      e.preventDefault();
      button.click();
    }
  });

  // Moderation: "tick all on this page" ticks every row's box of the bulk form it names.
  document.addEventListener("change", function (e) {
    var all = e.target;
    if (!all.matches || !all.matches("input[data-ticks]")) return;
    document.querySelectorAll('input[name="tid"][form="' + all.getAttribute("data-ticks") + '"]')
      .forEach(function (box) { box.checked = all.checked; });
  });
})();
