/**
 * Node identity: an Ed25519 key pair whose public key is the node ID. Identities can be
 * ephemeral or persisted in a small JSON file (mode 0600) so a node keeps its ID and its
 * place in the DHT across restarts.
 */

import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MccError, invalidArgument } from '../errors.js';
import { KEY_LENGTH, hasLength } from './bytes.js';
import { bytesToHex, equalBytes, hexToBytes } from '../util/bytes.js';
import { nodeCryptoSuite } from './node-suite.js';
import type { CryptoSuite, KeyPair } from './types.js';

/** The `type` field of an identity file. */
export const IDENTITY_FILE_TYPE = 'mcc-mesh-identity';
/** The `version` field of an identity file this code writes and reads. */
export const IDENTITY_FILE_VERSION = 1;

/** Identity files hold a secret key: owner read/write only. */
const FILE_MODE = 0o600;
/** A directory we create for an identity is private to the owner as well. */
const DIR_MODE = 0o700;
/** A sane identity file is ~200 bytes; refusing big files bounds what a bad path can make us read. */
const MAX_FILE_BYTES = 64 * 1024;

function identityError(message: string, path: string, cause?: unknown): MccError {
  return new MccError('ERR_IDENTITY', `${message}: ${path}`, { cause, details: { path } });
}

/**
 * A key pair whose secret stays out of logs: `secretKey` is not enumerable, and
 * `util.inspect`, `console.log` and `JSON.stringify` show the public key only. The
 * secret is still there for whoever reads `keyPair.secretKey` on purpose.
 */
export function protectKeyPair(publicKey: Uint8Array, secretKey: Uint8Array): KeyPair {
  const keyPair = { publicKey } as KeyPair;
  const shown = (): { publicKey: string } => ({ publicKey: bytesToHex(publicKey) });
  Object.defineProperties(keyPair, {
    secretKey: { value: secretKey, enumerable: false },
    toJSON: { value: shown, enumerable: false },
    [Symbol.for('nodejs.util.inspect.custom')]: { value: () => `KeyPair { publicKey: '${bytesToHex(publicKey)}', secretKey: [hidden] }`, enumerable: false },
  });
  return keyPair;
}

/** Creates a fresh random identity (an Ed25519 key pair from `suite`'s random source). */
export function generateIdentity(suite: CryptoSuite = nodeCryptoSuite): KeyPair {
  const secretKey = suite.randomBytes(KEY_LENGTH);
  return protectKeyPair(suite.ed25519PublicKey(secretKey), secretKey);
}

/** Rebuilds the key pair from a 32-byte Ed25519 seed. Throws `ERR_INVALID_ARGUMENT` on a wrong length. */
export function identityFromSecret(secretKey: Uint8Array, suite: CryptoSuite = nodeCryptoSuite): KeyPair {
  if (!hasLength(secretKey, KEY_LENGTH)) throw invalidArgument('secretKey', `must be a Uint8Array of ${KEY_LENGTH} bytes`);
  const copy = Uint8Array.from(secretKey);
  return protectKeyPair(suite.ed25519PublicKey(copy), copy);
}

/** Lowercase hex form of a node ID (its 32-byte public key), for logs and the REST API. */
export function nodeIdToHex(id: Uint8Array): string {
  return bytesToHex(id);
}

/** The node's position in the DHT key space: SHA-256 of its public key. */
export function dhtPosition(suite: CryptoSuite, publicKey: Uint8Array): Uint8Array {
  return suite.sha256(publicKey);
}

/** True when both arrays hold the same bytes (not secret-dependent timing: used on public keys). */
/** Strict hex (even length, hex digits only), or null. */
function hexOrNull(hex: string): Uint8Array | null {
  try {
    return hexToBytes(hex);
  } catch {
    return null;
  }
}

function serialise(keyPair: KeyPair): string {
  const body = {
    type: IDENTITY_FILE_TYPE,
    version: IDENTITY_FILE_VERSION,
    secretKey: bytesToHex(keyPair.secretKey),
    publicKey: bytesToHex(keyPair.publicKey),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** Checks a key pair is well formed and consistent before it is written anywhere. */
function checkKeyPair(keyPair: KeyPair, suite: CryptoSuite, argument: string): void {
  if (keyPair === null || typeof keyPair !== 'object') throw invalidArgument(argument, 'must be a key pair');
  if (!hasLength(keyPair.secretKey, KEY_LENGTH)) throw invalidArgument(argument, `secretKey must be ${KEY_LENGTH} bytes`);
  if (!hasLength(keyPair.publicKey, KEY_LENGTH)) throw invalidArgument(argument, `publicKey must be ${KEY_LENGTH} bytes`);
  if (!equalBytes(suite.ed25519PublicKey(keyPair.secretKey), keyPair.publicKey)) {
    throw invalidArgument(argument, 'publicKey does not match secretKey');
  }
}

/**
 * Writes `contents` to a uniquely named temp file beside `path` with mode 0600 and
 * fsyncs it, so that whatever publishes it afterwards publishes a complete file.
 */
async function writeTempFile(path: string, contents: string): Promise<string> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${nodeRandomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The umask can only clear bits, but be explicit in case the platform ignored the mode.
  await chmod(temp, FILE_MODE);
  return temp;
}

/**
 * Saves an identity to `path` as JSON with mode 0600, creating the parent directory.
 * Writes a temp file and renames it over `path`, so a crash never leaves half a file.
 * Throws `ERR_INVALID_ARGUMENT` for an inconsistent key pair, `ERR_IDENTITY` when writing fails.
 */
export async function saveIdentity(path: string, keyPair: KeyPair, suite: CryptoSuite = nodeCryptoSuite): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'must be a non-empty string');
  checkKeyPair(keyPair, suite, 'keyPair');
  let temp: string | undefined;
  try {
    temp = await writeTempFile(path, serialise(keyPair));
    await rename(temp, path);
  } catch (error) {
    if (temp !== undefined) await unlink(temp).catch(() => undefined);
    throw identityError('cannot write identity file', path, error);
  }
}

/** Parses and validates identity file contents; every problem is an `ERR_IDENTITY`. */
function parseIdentity(text: string, path: string, suite: CryptoSuite): KeyPair {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw identityError('identity file is not valid JSON', path, error);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw identityError('identity file is not a JSON object', path);
  const record = body as Record<string, unknown>;
  if (record.type !== IDENTITY_FILE_TYPE) throw identityError(`identity file type is not "${IDENTITY_FILE_TYPE}"`, path);
  if (record.version !== IDENTITY_FILE_VERSION) throw identityError(`unsupported identity file version ${String(record.version)}`, path);
  const secretKey = typeof record.secretKey === 'string' ? hexOrNull(record.secretKey) : null;
  const publicKey = typeof record.publicKey === 'string' ? hexOrNull(record.publicKey) : null;
  if (secretKey === null || secretKey.length !== KEY_LENGTH) throw identityError('identity file secretKey is not 32 bytes of hex', path);
  if (publicKey === null || publicKey.length !== KEY_LENGTH) throw identityError('identity file publicKey is not 32 bytes of hex', path);
  if (!equalBytes(suite.ed25519PublicKey(secretKey), publicKey)) {
    throw identityError('identity file publicKey does not match its secretKey', path);
  }
  return protectKeyPair(publicKey, secretKey);
}

/**
 * Loads and validates an identity file. Throws `ERR_IDENTITY` when the file is missing,
 * unreadable, malformed, or its public key does not match its secret key
 * (`details.path` names the file; `cause` keeps the underlying error).
 */
export async function loadIdentity(path: string, suite: CryptoSuite = nodeCryptoSuite): Promise<KeyPair> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'must be a non-empty string');
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_FILE_BYTES) throw identityError('identity file is too large', path);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof MccError) throw error;
    throw identityError('cannot read identity file', path, error);
  }
  return parseIdentity(text, path, suite);
}

function isMissingFile(error: unknown): boolean {
  return error instanceof MccError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Loads the identity at `path`, or creates, saves and returns a fresh one when no file
 * exists. Creation publishes with `link()`, which fails if the file appeared meanwhile,
 * so two processes starting together end up with the same identity rather than one
 * silently overwriting the other's.
 */
export async function loadOrCreateIdentity(path: string, suite: CryptoSuite = nodeCryptoSuite): Promise<KeyPair> {
  try {
    return await loadIdentity(path, suite);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
  }
  const keyPair = generateIdentity(suite);
  let temp: string | undefined;
  try {
    temp = await writeTempFile(path, serialise(keyPair));
    try {
      await link(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return await loadIdentity(path, suite); // somebody else won the race
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
      await rename(temp, path); // filesystem without hard links: plain atomic replace
      temp = undefined;
    }
  } catch (error) {
    if (error instanceof MccError) throw error;
    throw identityError('cannot create identity file', path, error);
  } finally {
    if (temp !== undefined) await unlink(temp).catch(() => undefined);
  }
  return keyPair;
}

/**
 * Turns the `identity` option of `MccNode.create` into a key pair:
 * a string is an identity file path (loaded, or created when missing);
 * a `KeyPair` is checked and copied; `undefined` gives a fresh ephemeral identity.
 * Throws `ERR_INVALID_ARGUMENT` (argument `identity`) for anything else, `ERR_IDENTITY` for file problems.
 */
export async function resolveIdentity(option: string | KeyPair | undefined, suite: CryptoSuite = nodeCryptoSuite): Promise<KeyPair> {
  if (option === undefined) return generateIdentity(suite);
  if (typeof option === 'string') {
    if (option.length === 0) throw invalidArgument('identity', 'file path must not be empty');
    return loadOrCreateIdentity(option, suite);
  }
  checkKeyPair(option, suite, 'identity');
  return protectKeyPair(Uint8Array.from(option.publicKey), Uint8Array.from(option.secretKey));
}
