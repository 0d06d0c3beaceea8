// The page's few plain-JavaScript buttons, wired here rather than in inline handlers (the
// Content-Security-Policy runs no inline script): they work before the wasm has hydrated.
//   data-action="print"                    prints the page
//   data-action="copy" data-copy="TEXT"    copies TEXT (a path gets this server's origin)
//   data-action="copy" data-copy-from="ID" copies the text of element ID
document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-action]');
  if (!button) return;
  if (button.dataset.action === 'print') {
    window.print();
    return;
  }
  if (button.dataset.action === 'copy') {
    let text = button.dataset.copy;
    if (button.dataset.copyFrom) {
      text = document.getElementById(button.dataset.copyFrom)?.textContent ?? '';
    } else if (text && text.startsWith('/')) {
      text = location.origin + text;
    }
    navigator.clipboard.writeText(text).then(() => { button.textContent = 'Copied'; });
  }
});
