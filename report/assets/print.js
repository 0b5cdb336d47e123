// Paper cannot click: open every collapsed section before printing.
addEventListener("beforeprint", () => { for (const d of document.querySelectorAll("details")) d.open = true; });
