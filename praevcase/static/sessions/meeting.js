// Meeting view: ← and → move between the cases of the agenda, unless the focus is in a form field.
(function () {
  "use strict";
  var root = document.querySelector(".meeting");
  if (!root) { return; }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var tag = (event.target && event.target.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(tag) || (event.target && event.target.isContentEditable)) { return; }
    var target = event.key === "ArrowLeft" ? root.dataset.prev : event.key === "ArrowRight" ? root.dataset.next : "";
    if (target) {
      event.preventDefault();
      window.location.assign(target);
    }
  });
}());
