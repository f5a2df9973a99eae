// For the portal's page, beside <iframe data-newsletter-embed src=".../n/{slug}/embed">: sets each such frame's
// height to the height its page reports (embed-frame.js), so the sign-up box never shows a scrollbar.
// Include it from our server: <script src="https://<newsletter host>/js/embed.js" async></script>
(function () {
  'use strict';
  var script = document.currentScript;
  // Only messages from documents of the origin this script came from are heights we trust.
  var origin = script && script.src ? new URL(script.src, document.baseURI).origin : null;
  if (!origin) return;
  var MAX_HEIGHT = 5000; // CSS pixels: a sign-up box is far shorter; a bogus value cannot blow up the portal's page

  function frames() {
    return document.querySelectorAll('iframe[data-newsletter-embed]');
  }

  function ask() {
    // A frame that reported its height before this script listened: ask it again. A frame still loading is
    // about:blank, so the message (addressed to our origin only) is dropped, and it reports once it has loaded.
    var list = frames();
    for (var i = 0; i < list.length; i++) {
      if (list[i].contentWindow) list[i].contentWindow.postMessage({ type: 'newsletter-embed:ask' }, origin);
    }
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== 'newsletter-embed:height') return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) return;
    height = Math.min(Math.ceil(height), MAX_HEIGHT);
    var list = frames();
    for (var i = 0; i < list.length; i++) {
      // The frame whose window sent it: two sign-up boxes on one page each get their own height.
      if (list[i].contentWindow === event.source) {
        list[i].style.height = height + 'px';
        list[i].style.border = '0';
        return;
      }
    }
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ask);
  else ask();
})();
