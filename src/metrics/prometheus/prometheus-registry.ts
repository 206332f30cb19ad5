import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The app's own registry instead of prom-client's global one: two apps in one process (tests) would
 * otherwise register the same metric names twice and fail.
 */
export const PROMETHEUS_REGISTRY = Symbol('PrometheusRegistry');

export function createPrometheusRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
