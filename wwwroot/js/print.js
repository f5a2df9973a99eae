// The proof page's print button (CSP forbids inline script).
document.getElementById('print-proof')?.addEventListener('click', () => window.print());
