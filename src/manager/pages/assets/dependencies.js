// The dashboard's dependencies card: the circuit breaker of the database and of the storage.
(function () {
  const list = document.getElementById('dependencies');
  const MEANING = {
    closed: 'closed: reachable',
    'half-open': 'half-open: trying again',
    open: 'open: unreachable, answering 503 at once',
  };

  window.PixpoolApi.poll('/api/manager/dependencies', (view) =>
    list.replaceChildren(
      ...view.dependencies.map((d) => {
        const li = document.createElement('li');
        li.dataset.breaker = d.breaker;
        li.textContent = `${d.dependency}: ${MEANING[d.breaker] ?? d.breaker}`;
        return li;
      }),
    ),
  );
})();
