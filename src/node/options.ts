/** Argument checks of `MccNode.create()`: typed errors that name the option. */
import { invalidArgument } from '../errors.js';
import type { CryptoSuite } from '../crypto/types.js';
import { DEFAULT_CRYPTO_SUITE, loadCryptoSuite, type CryptoSuiteName } from '../crypto/index.js';
import type { MccNodeOptions } from './types.js';
import { checkStrategy } from '../discovery/load-balancing.js';
import { MccError } from '../errors.js';
import { isIP } from 'node:net';

/** Every option `create()` knows: a misspelt one is refused rather than silently ignored. */
const KNOWN_OPTIONS: ReadonlySet<string> = new Set<keyof MccNodeOptions>([
  'identity',
  'host',
  'port',
  'bootstrap',
  'transport',
  'crypto',
  'clock',
  'logger',
  'requestTimeoutMs',
  'requestBudget',
  'clientMode',
  'wallClock',
  'strategy',
  'tunnel',
  'relay',
  'nat',
  'routingTable',
  'consortium',
  'lan',
  'dataDir',
]);

/** Names the `crypto` option accepts. */
const CRYPTO_NAMES: ReadonlySet<string> = new Set<CryptoSuiteName>(['auto', 'node', 'noble', 'sodium']);

/**
 * Throws ERR_INVALID_ARGUMENT for a malformed option; returns the crypto choice, a suite
 * name (resolved by {@link resolveCryptoOption}) or the caller's own suite.
 */
export function checkNodeOptions(options: MccNodeOptions): CryptoSuiteName | CryptoSuite {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw invalidArgument(key, `unknown option (known options: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  if (options.strategy !== undefined) checkStrategy(options.strategy);
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw invalidArgument('port', 'expected an integer 0..65535');
  }
  if (options.host !== undefined && typeof options.host !== 'string') throw invalidArgument('host', 'expected a string');
  if (options.bootstrap !== undefined && !Array.isArray(options.bootstrap)) throw invalidArgument('bootstrap', 'expected an array of "host:port"');
  if (options.requestTimeoutMs !== undefined && !(options.requestTimeoutMs > 0)) throw invalidArgument('requestTimeoutMs', 'expected a positive number');
  if (options.requestBudget !== undefined && options.requestBudget !== false && (options.requestBudget === null || typeof options.requestBudget !== 'object'))
    throw invalidArgument('requestBudget', 'expected false or an object');
  if (options.routingTable !== undefined && (typeof options.routingTable !== 'string' || options.routingTable.length === 0))
    throw invalidArgument('routingTable', 'expected a file path');
  checkLanOption(options.lan);
  if (options.dataDir !== undefined && (typeof options.dataDir !== 'string' || options.dataDir.length === 0))
    throw invalidArgument('dataDir', 'expected a directory path');
  if (options.crypto === undefined) return DEFAULT_CRYPTO_SUITE;
  if (typeof options.crypto === 'string') {
    if (!CRYPTO_NAMES.has(options.crypto))
      throw invalidArgument('crypto', `unknown crypto suite "${options.crypto}" (expected "auto", "node", "noble" or "sodium")`);
    return options.crypto;
  }
  if (options.crypto === null || typeof options.crypto !== 'object' || typeof options.crypto.sign !== 'function') {
    throw invalidArgument('crypto', 'expected "auto", "node", "noble", "sodium" or a CryptoSuite object');
  }
  return options.crypto;
}

/**
 * The suite a checked `crypto` option stands for. Asynchronous because `'sodium'` and
 * `'auto'` load sodium-native with a dynamic import; `'sodium'` where it cannot load is
 * an ERR_INVALID_ARGUMENT naming `crypto` that says why (the load error is its cause).
 */
export async function resolveCryptoOption(choice: CryptoSuiteName | CryptoSuite): Promise<CryptoSuite> {
  if (typeof choice !== 'string') return choice;
  try {
    return await loadCryptoSuite(choice);
  } catch (error) {
    if (error instanceof MccError && error.code === 'ERR_INVALID_ARGUMENT') {
      throw new MccError('ERR_INVALID_ARGUMENT', error.message.replace(/^invalid argument "name"/, 'invalid argument "crypto"'), {
        cause: error.cause,
        details: { argument: 'crypto' },
      });
    }
    throw error;
  }
}

/** Checks `options.lan`: a boolean or `{ group, port, intervalMs }`. */
function checkLanOption(lan: MccNodeOptions['lan']): void {
  if (lan === undefined || typeof lan === 'boolean') return;
  if (lan === null || typeof lan !== 'object') throw invalidArgument('lan', 'expected true, false or { group, port, intervalMs }');
  if (lan.group !== undefined && !(typeof lan.group === 'string' && isIP(lan.group) === 4 && /^2(2[4-9]|3\d)\./.test(lan.group))) {
    throw invalidArgument('lan.group', 'expected an IPv4 multicast address (224.0.0.0/4)');
  }
  if (lan.port !== undefined && (!Number.isInteger(lan.port) || lan.port < 1 || lan.port > 65535))
    throw invalidArgument('lan.port', 'expected an integer 1..65535');
  if (lan.intervalMs !== undefined && !(Number.isFinite(lan.intervalMs) && lan.intervalMs >= 1000))
    throw invalidArgument('lan.intervalMs', 'expected a number >= 1000');
}
