import { Gauge, Registry } from 'prom-client';
import { ResponseBudget } from '../../common/response-budget';

/** What slow readers hold, read from the budget at each scrape. Returns the budget. */
export function registerResponseBudgetGauges(
  registry: Registry,
  budget: ResponseBudget,
): ResponseBudget {
  new Gauge({
    name: 'pixpool_response_bytes_held',
    help: 'Bytes of image answers not yet taken by their clients (queued or not yet written)',
    registers: [registry],
    collect() {
      this.set(budget.heldBytes());
    },
  });
  new Gauge({
    name: 'pixpool_responses_waiting_on_client',
    help: 'Image answers waiting for their client to read before the next piece is written',
    registers: [registry],
    collect() {
      this.set(budget.waitingOnClients());
    },
  });
  return budget;
}
