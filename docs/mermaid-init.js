// Draws the book's ```mermaid diagrams (mdbook-mermaid turns them into <pre class="mermaid">).
// Written for this book, after the one mdbook-mermaid 0.17.1 installs: the same switch between
// mermaid's light and dark themes, and sequence diagrams set up to stay readable in mdBook's
// 750-pixel column (long labels wrap instead of shrinking the whole picture).
// `mdbook-mermaid install` would overwrite this file: scripts/check-docs.sh copies only the
// library, mermaid.min.js, from mdbook-mermaid.
(() => {
    const darkThemes = ['ayu', 'navy', 'coal'];
    const classList = document.documentElement.classList;
    const dark = darkThemes.some((theme) => classList.contains(theme));

    mermaid.initialize({
        startOnLoad: true,
        theme: dark ? 'dark' : 'default',
        // The dark theme draws the lifelines nearly white, right through the labels that cross
        // them: a dimmer line keeps the labels readable.
        themeVariables: dark ? { actorLineColor: '#5c6370' } : {},
        sequence: {
            wrap: true,
            width: 150,
            actorMargin: 90,
            messageFontSize: 15,
            noteFontSize: 14,
            actorFontSize: 15,
        },
    });

    // mermaid draws once, in the colours of the moment: when the reader switches between a
    // light and a dark theme (or "Auto" does), reload so that the diagrams are drawn again.
    new MutationObserver(() => {
        if (darkThemes.some((theme) => classList.contains(theme)) !== dark) {
            window.location.reload();
        }
    }).observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
})();
