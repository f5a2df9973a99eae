// Refuses a file above Import:MaxUploadBytes before uploading it, with the same message the server gives.
// Every upload form says its limit in data-max-bytes (the import page, the opt-out list page).
(function () {
    'use strict';
    document.querySelectorAll('form[data-max-bytes]').forEach(function (form) {
        var max = Number(form.getAttribute('data-max-bytes'));
        var input = form.querySelector('input[type=file]');
        var errors = form.querySelector('[role=alert]');
        form.addEventListener('submit', function (e) {
            var file = input && input.files && input.files[0];
            if (file && max > 0 && file.size > max) {
                e.preventDefault();
                errors.textContent = form.getAttribute('data-too-large');
            }
        });
    });
})();
