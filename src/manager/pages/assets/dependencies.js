// The dashboard's dependencies card: the circuit breaker of the database and of the storage.
(function () {
  const list = document.getElementById('dependencies');
  const MEANING = {
    closed: 'closed: reachable',
    'half-open': 'half-open: trying again',
    open: 'open: unreachable, answering 503 at once',
  };

  async function refresh() {
    let view;
    try {
      view = await window.PixpoolApi.api('/api/manager/dependencies');
    } catch {
      return; // the main script reports auth and connection trouble
    }
    list.replaceChildren(
      ...view.dependencies.map((d) => {
        const li = document.createElement('li');
        li.dataset.breaker = d.breaker;
        li.textContent = `${d.dependency}: ${MEANING[d.breaker] ?? d.breaker}`;
        return li;
      }),
    );
  }

  refresh();
  setInterval(refresh, 5000);
})();
