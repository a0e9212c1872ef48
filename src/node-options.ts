/** Argument checks of `MccNode.create()`: typed errors that name the option. */
import { invalidArgument } from './errors.js';
import type { CryptoSuite } from './crypto/types.js';
import { createCryptoSuite, defaultCryptoSuite } from './crypto/index.js';
import type { MccNodeOptions } from './node-types.js';

/** Throws ERR_INVALID_ARGUMENT for a malformed option; returns the crypto suite the options pick. */
export function checkNodeOptions(options: MccNodeOptions): CryptoSuite {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw invalidArgument('port', 'expected an integer 0..65535');
  }
  if (options.host !== undefined && typeof options.host !== 'string') throw invalidArgument('host', 'expected a string');
  if (options.bootstrap !== undefined && !Array.isArray(options.bootstrap)) throw invalidArgument('bootstrap', 'expected an array of "host:port"');
  if (options.requestTimeoutMs !== undefined && !(options.requestTimeoutMs > 0)) throw invalidArgument('requestTimeoutMs', 'expected a positive number');
  if (options.routingTable !== undefined && (typeof options.routingTable !== 'string' || options.routingTable.length === 0)) throw invalidArgument('routingTable', 'expected a file path');
  if (options.crypto === undefined) return defaultCryptoSuite;
  return typeof options.crypto === 'string' ? createCryptoSuite(options.crypto) : options.crypto;
}
