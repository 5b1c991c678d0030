/* The self-service portal (/help): "contact us" opens the web chat widget when it is on the page. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest('[data-action="open-chat"]');
    if (!button) return;
    if (window.KefuWidget) window.KefuWidget.open();
  });
})();
