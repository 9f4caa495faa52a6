/**
 * A recording that cannot be opened, read, appended to or written (one line for the user). On its
 * own, without the format's imports, so that ctop's command line can name it without loading them.
 */
export class RecordingError extends Error {}
