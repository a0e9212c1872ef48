/** Argument checks of `MccNode.create()`: typed errors that name the option. */
import { invalidArgument } from '../errors.js';
import type { CryptoSuite } from '../crypto/types.js';
import { createCryptoSuite, defaultCryptoSuite } from '../crypto/index.js';
import type { MccNodeOptions } from './types.js';
import { checkStrategy } from '../discovery/load-balancing.js';
import { MccError } from '../errors.js';

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
  'clientMode',
  'wallClock',
  'strategy',
  'tunnel',
  'relay',
  'nat',
  'routingTable',
]);

/** Throws ERR_INVALID_ARGUMENT for a malformed option; returns the crypto suite the options pick. */
export function checkNodeOptions(options: MccNodeOptions): CryptoSuite {
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
  if (options.routingTable !== undefined && (typeof options.routingTable !== 'string' || options.routingTable.length === 0))
    throw invalidArgument('routingTable', 'expected a file path');
  if (options.crypto === undefined) return defaultCryptoSuite;
  if (typeof options.crypto === 'string') {
    try {
      return createCryptoSuite(options.crypto);
    } catch (error) {
      if (error instanceof MccError) throw invalidArgument('crypto', error.message.replace(/^invalid argument "name": /, ''));
      throw error;
    }
  }
  if (options.crypto === null || typeof options.crypto !== 'object' || typeof options.crypto.sign !== 'function') {
    throw invalidArgument('crypto', 'expected "node", "noble" or a CryptoSuite object');
  }
  return options.crypto;
}
