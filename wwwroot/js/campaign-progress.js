// Refreshes a campaign's progress from its JSON endpoint every two seconds while it sends.
// Reloads the page when the status changes, so the buttons and the report match the new state.
(function () {
  'use strict';
  var root = document.querySelector('[data-progress-url]');
  if (!root) return;
  var url = root.getAttribute('data-progress-url');
  var initialStatus = root.getAttribute('data-status');
  var active = ['Scheduled', 'Sending', 'Paused'];

  function set(name, value) {
    var el = root.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = value === null || value === undefined ? '' : String(value);
  }

  function tick() {
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (p) {
        if (p.status !== initialStatus) { window.location.reload(); return; }
        ['statusText', 'recipients', 'sent', 'failed', 'queued', 'notSent', 'messagesPerSecond', 'timeLeft'].forEach(function (f) { set(f, p[f]); });
        var bar = root.querySelector('progress');
        if (bar) { bar.max = Math.max(1, p.recipients); bar.value = p.done; bar.textContent = p.percent + ' %'; }
        if (active.indexOf(p.status) >= 0) window.setTimeout(tick, 2000);
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }

  if (active.indexOf(initialStatus) >= 0) window.setTimeout(tick, 2000);
})();
