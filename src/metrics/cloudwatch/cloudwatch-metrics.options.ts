import { CloudWatchClient, Dimension } from '@aws-sdk/client-cloudwatch';

export interface CloudWatchMetricsOptions {
  /** default 'Pixpool' */
  namespace?: string;
  /** Added to every metric, e.g. { Stage: 'prod' }; the pool totals carry exactly these. */
  dimensions?: Record<string, string>;
  /** Only used by `createCloudWatchClient`; the adapters talk through the injected client. */
  region?: string;
}

export interface ResolvedCloudWatchOptions {
  namespace: string;
  /** The configured dimensions, in configuration order. */
  dimensions: Dimension[];
}

export const CLOUDWATCH_DEFAULT_NAMESPACE = 'Pixpool';
/** Dimension that tells per-node metrics from the pool totals. */
export const NODE_ID_DIMENSION = 'NodeId';
/** CloudWatch allows 30 dimensions per metric; one is NodeId. */
const MAX_CONFIGURED_DIMENSIONS = 29;

export function resolveCloudWatchOptions(
  options: CloudWatchMetricsOptions,
): ResolvedCloudWatchOptions {
  const namespace = options.namespace ?? CLOUDWATCH_DEFAULT_NAMESPACE;
  if (!namespace || namespace.startsWith('AWS/')) {
    throw new Error(
      `CloudWatch namespace must be non-empty and not start with "AWS/", got "${namespace}"`,
    );
  }
  const dimensions = Object.entries(options.dimensions ?? {}).map(([Name, Value]) => ({
    Name,
    Value,
  }));
  for (const { Name, Value } of dimensions) {
    if (Name === NODE_ID_DIMENSION) {
      throw new Error(
        `CloudWatch dimension "${NODE_ID_DIMENSION}" is set per node and cannot be configured`,
      );
    }
    if (!Name || !Value) {
      throw new Error(`CloudWatch dimension "${Name}" needs a non-empty name and value`);
    }
  }
  if (dimensions.length > MAX_CONFIGURED_DIMENSIONS) {
    throw new Error(`CloudWatch allows at most ${MAX_CONFIGURED_DIMENSIONS} configured dimensions`);
  }
  return { namespace, dimensions };
}

export function createCloudWatchClient(
  options: Pick<CloudWatchMetricsOptions, 'region'>,
): CloudWatchClient {
  return new CloudWatchClient(options.region ? { region: options.region } : {});
}

/** Runs one CloudWatch call and rethrows its failure saying which call failed, keeping the SDK error as `cause`. */
export async function cloudWatchCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const text =
      error instanceof Error && error.name && error.name !== 'Error'
        ? `${error.name}: ${error.message}`
        : String(error instanceof Error ? error.message : error);
    throw new Error(`${what} failed: ${text}`, { cause: error });
  }
}
