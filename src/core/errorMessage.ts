/** The message of anything thrown (a rejection can carry any value). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
