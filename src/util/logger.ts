/**
 * Logging seam. The library is silent by default. Turn logs on with
 * `MCC_LOG=debug|info|warn|error` (every module, from that level up), with
 * `DEBUG=mcc*` / `DEBUG=mcc:nat,mcc:tunnel` (debug level for the named modules, the
 * convention of the `debug` package), or pass `logger` (any object with these four
 * methods, `console` included).
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
  /**
   * Optional: a logger for one module (`nat`, `tunnel`, …). Loggers without it get the
   * module's name in front of each message instead.
   */
  child?(namespace: string): Logger;
}

/** A level name, or `silent`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Which namespaces `DEBUG` turns on: comma or space separated globs (`*` matches anything), `-name` excludes. */
export function debugEnabled(namespace: string, pattern: string | undefined): boolean {
  if (!pattern) return false;
  let enabled = false;
  for (const raw of pattern.split(/[\s,]+/)) {
    if (raw === '') continue;
    const exclude = raw.startsWith('-');
    const glob = exclude ? raw.slice(1) : raw;
    const regex = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    if (!regex.test(namespace)) continue;
    if (exclude) return false;
    enabled = true;
  }
  return enabled;
}

/**
 * A logger that writes to stderr from `level` up, each line prefixed with `prefix`.
 * Its children (`child('nat')`) log as `mcc:nat` and, when `debug` (a `DEBUG`-style
 * pattern) names them, at debug level whatever `level` says.
 */
export function createLogger(level: LogLevel, prefix = 'mcc', options: { debug?: string; namespace?: string } = {}): Logger {
  const namespace = options.namespace ?? 'mcc';
  const threshold = debugEnabled(namespace, options.debug) ? 0 : level === 'silent' ? LEVELS.length : LEVELS.indexOf(level);
  const label = namespace === 'mcc' ? prefix : `${prefix} ${namespace.slice(4)}`;
  const make =
    (index: number) =>
    (message: string, ...details: unknown[]): void => {
      if (index >= threshold) console.error(`[${label}] ${LEVELS[index]} ${message}`, ...details);
    };
  return {
    debug: make(0),
    info: make(1),
    warn: make(2),
    error: make(3),
    child: (name) => createLogger(level, prefix, { ...options, namespace: `${namespace}:${name}` }),
  };
}

/** The default logger: silent unless `MCC_LOG` names a level or `DEBUG` names an mcc namespace. */
export function defaultLogger(prefix?: string): Logger {
  const level = process.env.MCC_LOG;
  const debug = process.env.DEBUG;
  return createLogger(level === 'debug' || level === 'info' || level === 'warn' || level === 'error' ? level : 'silent', prefix, debug ? { debug } : {});
}

/** `logger`'s logger for module `namespace`: its own child when it has one, else one that names the module in each message. */
export function childLogger(logger: Logger, namespace: string): Logger {
  if (logger.child) return logger.child(namespace);
  const tag = (message: string): string => `${namespace}: ${message}`;
  return {
    debug: (message, ...details) => logger.debug(tag(message), ...details),
    info: (message, ...details) => logger.info(tag(message), ...details),
    warn: (message, ...details) => logger.warn(tag(message), ...details),
    error: (message, ...details) => logger.error(tag(message), ...details),
    child: (name) => childLogger(logger, `${namespace}:${name}`),
  };
}
