/** A mistake in how the CLI was called: exit code 2 and one line on stderr. */
export class UsageError extends Error {}
