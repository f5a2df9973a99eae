// Polls the running import's figures once a second; reloads the page when it has ended.
(function () {
    'use strict';
    var card = document.getElementById('import-progress');
    if (!card) return;
    var url = card.getAttribute('data-url');
    var bar = document.getElementById('import-progress-bar');
    var rows = document.getElementById('import-rows');
    var rate = document.getElementById('import-rate');
    var left = document.getElementById('import-left');

    function poll() {
        fetch(url, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
            .then(function (r) {
                // The import is gone (removed after a restart of the app): the page says so.
                if (r.status === 404) { window.location.reload(); return undefined; }
                return r.ok ? r.json() : null;
            })
            .then(function (p) {
                if (p === undefined) return;
                if (!p) { setTimeout(poll, 3000); return; }
                if (p.state !== 'running' && p.state !== 'queued') { window.location.reload(); return; }
                bar.value = p.percent;
                rows.textContent = p.rowsText;
                rate.textContent = p.rateText;
                left.textContent = p.leftText;
                setTimeout(poll, 1000);
            })
            .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
})();
