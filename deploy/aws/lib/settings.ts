/*
 * What the stack and the app must agree on, in one place. The pool tag and metric namespace are
 * the app's defaults (config/default.yaml: pool.ec2.tag, metrics.namespace); the stack writes them
 * into the app's config too, and test/pixpool-stack.spec.ts checks that all three agree.
 */
export const APP_PORT = 5000;
export const NODE_PORT = 5001;
export const DB_PORT = 3306;

/** The ALB's health check: readiness (the app can serve), not mere liveness. */
export const APP_READINESS_PATH = '/health/ready';

export const POOL_TAG = { key: 'pixpool-role', value: 'cache-node' } as const;
export const METRICS_NAMESPACE = 'Pixpool';
/** autoscaler.maxMiss: the miss-rate alarm fires where the auto-scaler would grow. */
export const MISS_RATE_ALARM = 0.8;
export const DB_NAME = 'pixpool';
export const DB_USER = 'pixpool';
