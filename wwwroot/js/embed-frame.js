// Inside the embed page (/n/{slug}/embed): tells the portal page that frames it how tall its content is, so the
// portal's embed.js can size the <iframe> without a scrollbar. CSP forbids inline script, so this file is loaded
// from our own origin. Message shape: { type: "newsletter-embed:height", height: <CSS pixels> }.
(function () {
  'use strict';
  if (window.parent === window) return; // opened on its own: nobody to tell

  var last = -1;

  function post() {
    // The root element's box, not scrollHeight: scrollHeight never drops below the frame's current height,
    // so a frame that was once too tall could never shrink back (the success text is shorter than the form).
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    // '*': the frame cannot know which of the allowed portals framed it (frame-ancestors already decides who may),
    // and the message carries nothing but the page's height.
    window.parent.postMessage({ type: 'newsletter-embed:height', height: height }, '*');
  }

  // embed.js loads async and may start listening after this page's first report: it asks once, and we answer.
  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || !event.data || event.data.type !== 'newsletter-embed:ask') return;
    last = -1;
    post();
  });
  window.addEventListener('load', post);
  window.addEventListener('resize', post);
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(post).observe(document.documentElement);
  }
  // A <details> opening (the privacy information) changes the height; ResizeObserver sees it, older browsers hear this.
  document.addEventListener('toggle', post, true);
  post();
})();
