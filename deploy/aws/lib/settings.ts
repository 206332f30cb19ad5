/*
 * What the stack and the app must agree on, in one place. The metric namespace is the app's
 * default (config/default.yaml: metrics.namespace); the pool tag is the stack's own (its key
 * here, its value the stack name), written into the app's config (pool.ec2.tag).
 * test/pixpool-stack.spec.ts checks that they agree.
 */
export const APP_PORT = 5000;
export const NODE_PORT = 5001;
export const DB_PORT = 3306;

/** The load balancer's and the group's health check: the process answers (not its dependencies). */
export const APP_LIVENESS_PATH = '/health/live';
/** Database and storage reachable: alarmed on, never a reason to replace the instance. */
export const APP_READINESS_PATH = '/health/ready';

/**
 * Pool members carry `pixpool-pool=<stack name>`: unique per stack, so two stacks in one account
 * never adopt or stop each other's nodes.
 */
export const POOL_TAG_KEY = 'pixpool-pool';
export const METRICS_NAMESPACE = 'Pixpool';
/** autoscaler.maxMiss: the miss-rate alarm fires where the auto-scaler would grow. */
export const MISS_RATE_ALARM = 0.8;
export const DB_NAME = 'pixpool';
/** The RDS master user: creates the app's user at install, then only for break-glass. */
export const DB_USER = 'pixpool';
/** The app's own user: what the migrations and queries need on DB_NAME (grant-db-user.js). */
export const DB_APP_USER = 'pixpool_app';
/** The Node.js major the instances run (Amazon Linux 2023 package nodejs24). */
export const NODE_MAJOR = 24;
