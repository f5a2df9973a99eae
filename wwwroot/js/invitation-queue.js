// The click-to-chat queue: S sends (wa.me opens in a new tab) and moves on; N skips.
// Without script the page still works: the form opens wa.me in a new tab, "Skip" moves on.
(function () {
  'use strict';
  var form = document.getElementById('queue-send-form');
  var skip = document.getElementById('queue-skip');

  function advance() {
    var next = form ? form.getAttribute('data-next-url') : null;
    if (!next && skip) next = skip.getAttribute('href');
    if (next) window.location.assign(next);
  }

  if (form) {
    form.addEventListener('submit', function () {
      // The POST goes to the new tab; give it a moment to leave before this page moves on.
      window.setTimeout(advance, 400);
    });
  }

  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = event.target && event.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    var key = event.key.toLowerCase();
    if (key === 's' && form) {
      event.preventDefault();
      form.requestSubmit();
    } else if (key === 'n' && skip) {
      event.preventDefault();
      window.location.assign(skip.getAttribute('href'));
    }
  });
})();
