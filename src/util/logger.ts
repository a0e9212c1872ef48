/**
 * Logging seam. The library is silent by default; set `MCC_LOG=debug|info|warn|error`
 * or pass `logger` (any object with these four methods, `console` included).
 */

/** The four levels mcc-mesh logs at. */
export interface Logger {
  /** Protocol detail, for debugging (noisy). */
  debug(message: string, ...details: unknown[]): void;
  /** Lifecycle events (e.g. the address the node listens on). */
  info(message: string, ...details: unknown[]): void;
  /** Something failed but the node carries on (a bootstrap node did not answer, a handler threw). */
  warn(message: string, ...details: unknown[]): void;
  /** Failures; mcc-mesh itself does not log at this level at present. */
  error(message: string, ...details: unknown[]): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A logger that writes to stderr from `level` up, each line prefixed with `prefix`. */
export function createLogger(level: (typeof LEVELS)[number] | 'silent', prefix = 'mcc'): Logger {
  const threshold = level === 'silent' ? LEVELS.length : LEVELS.indexOf(level);
  const make =
    (index: number) =>
    (message: string, ...details: unknown[]): void => {
      if (index >= threshold) console.error(`[${prefix}] ${LEVELS[index]} ${message}`, ...details);
    };
  return { debug: make(0), info: make(1), warn: make(2), error: make(3) };
}

/** The default logger: silent unless `MCC_LOG` names a level. */
export function defaultLogger(prefix?: string): Logger {
  const level = process.env.MCC_LOG;
  return createLogger(level === 'debug' || level === 'info' || level === 'warn' || level === 'error' ? level : 'silent', prefix);
}
