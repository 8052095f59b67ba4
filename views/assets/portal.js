// Copy buttons of the developer portal. An external file because the CSP allows no inline script; the buttons stay
// hidden where scripts do not run, so nobody sees a button that does nothing.
for (const button of document.querySelectorAll('button[data-copy]')) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = 'Copied';
    } catch {
      // No clipboard access (an http page, a refused permission): select the text for a manual copy instead.
      getSelection().selectAllChildren(source);
      button.textContent = 'Selected: copy it';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2500);
  });
}
