/** Runs one AWS call and rethrows its failure with what was being done, keeping the SDK error as `cause`. */
export async function ec2Call<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new Error(`${what} failed: ${errorText(error)}`, { cause: error });
  }
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // SDK errors carry the AWS error code as their name (e.g. IncorrectInstanceState).
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}

export function awsErrorName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const cause = error.cause;
  return cause instanceof Error ? cause.name : error.name;
}
