// Refreshes the live part of the dashboard in place (every data-refresh-ms)
// from an HTML fragment of this page, and says when it cannot.
addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live"), note = document.getElementById("refreshed");
  const refresh = async () => {
    try {
      const r = await fetch("?fragment=1", {cache: "no-store"});
      if (!r.ok) throw new Error(r.status + " " + r.statusText);
      live.innerHTML = await r.text();
      note.textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (e) {
      note.textContent = "Not updated: " + e.message + " (retrying)";
    }
  };
  setInterval(refresh, Number(document.body.dataset.refreshMs) || 15000);
});
addEventListener("beforeprint", () => { for (const d of document.querySelectorAll("details")) d.open = true; });
