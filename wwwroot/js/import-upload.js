// Refuses a file above Import:MaxUploadBytes before uploading it, with the same message the server gives.
(function () {
    'use strict';
    var form = document.getElementById('import-upload');
    if (!form) return;
    var max = Number(form.getAttribute('data-max-bytes'));
    var input = form.querySelector('input[type=file]');
    var errors = document.getElementById('import-errors');
    form.addEventListener('submit', function (e) {
        var file = input && input.files && input.files[0];
        if (file && max > 0 && file.size > max) {
            e.preventDefault();
            errors.textContent = form.getAttribute('data-too-large');
        }
    });
})();
