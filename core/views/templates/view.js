/* copydesk view: tooltips on hover and focus, quote <-> speaker linking, layer toggles.
   It reads only data-* attributes and writes text with textContent, never markup. */
(function () {
  "use strict";
  var tip = document.createElement("div");
  tip.id = "cd-tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.appendChild(tip);
  var current = null;
  var chain = [];

  function fragments(key) {
    return document.querySelectorAll('[data-key="' + CSS.escape(key) + '"]');
  }
  function partners(el) {
    var keys = [];
    if (el.dataset.speaker) { keys.push(el.dataset.speaker); }
    if (el.dataset.quotes) { keys = keys.concat(el.dataset.quotes.split(" ")); }
    return keys;
  }
  function enclosing(el) {
    var marks = [];
    for (var node = el; node && node.classList; node = node.parentElement) {
      if (node.classList.contains("m") && node.dataset.tip) { marks.push(node); }
      if (node.classList.contains("text")) { break; }
    }
    return marks;
  }
  function highlight(on) {
    chain.forEach(function (el, i) {
      if (i === 0) {
        fragments(el.dataset.key).forEach(function (f) { f.classList.toggle("active", on); });
      }
      partners(el).forEach(function (key) {
        fragments(key).forEach(function (f) { f.classList.toggle("linked", on); });
      });
    });
  }
  function show(el) {
    if (el === current) { return; }
    hide();
    current = el;
    chain = enclosing(el);
    highlight(true);
    tip.textContent = chain.map(function (m) { return m.dataset.tip; }).join("\n");
    tip.hidden = false;
    el.setAttribute("aria-describedby", "cd-tip");
    var box = el.getBoundingClientRect();
    var left = Math.max(4, Math.min(box.left, window.innerWidth - tip.offsetWidth - 4));
    var top = box.bottom + 6;
    if (top + tip.offsetHeight > window.innerHeight) { top = Math.max(4, box.top - tip.offsetHeight - 6); }
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }
  function hide() {
    if (!current) { return; }
    highlight(false);
    current.removeAttribute("aria-describedby");
    current = null;
    chain = [];
    tip.hidden = true;
  }
  function markOf(target) {
    return target && target.closest ? target.closest(".text .m[data-tip]") : null;
  }
  document.addEventListener("mouseover", function (event) {
    var el = markOf(event.target);
    if (el) { show(el); } else if (current && document.activeElement !== current) { hide(); }
  });
  document.addEventListener("focusin", function (event) {
    var el = markOf(event.target);
    if (el) { show(el); } else { hide(); }
  });
  document.addEventListener("focusout", function () { hide(); });
  document.addEventListener("keydown", function (event) {
    var el = markOf(event.target);
    if (!el) { return; }
    if (event.key === "Escape") { hide(); return; }
    if (event.key !== "Enter") { return; }
    var keys = partners(el);
    var target = keys.length ? document.getElementById(keys[0]) : null;
    if (target) { event.preventDefault(); target.focus(); }
  });
  document.querySelectorAll("input[data-toggle-layer]").forEach(function (box) {
    box.addEventListener("change", function () {
      var selector = '.m-ext[data-layer="' + CSS.escape(box.dataset.toggleLayer) + '"]';
      box.closest(".doc").querySelectorAll(selector).forEach(function (m) {
        m.classList.toggle("off", !box.checked);
      });
    });
  });
  document.querySelectorAll("input[data-toggle]").forEach(function (box) {
    box.addEventListener("change", function () {
      box.closest(".doc").classList.toggle("hide-" + box.dataset.toggle, !box.checked);
    });
  });
  document.querySelectorAll("input[data-collapse-removed]").forEach(function (box) {
    box.addEventListener("change", function () {
      box.closest(".raw-panel").classList.toggle("collapse-removed", box.checked);
    });
  });
})();
