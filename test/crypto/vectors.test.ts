/** Every available crypto suite (node, noble, and sodium where it loads) against published test vectors (RFC 8032, 7748, 8439, 5869, FIPS 180). */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MccError } from '../../src/errors.js';
import { suites } from '../helpers/suites.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const range = (from: number, to: number): Uint8Array => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

// RFC 8032 section 7.1, TEST 1-3.
const ED25519_VECTORS = [
  {
    name: 'TEST 1 (empty message)',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

// RFC 7748 section 5.2 (the second u-coordinate has its top bit set, which must be ignored).
const X25519_VECTORS = [
  {
    scalar: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  },
  {
    scalar: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  },
];

// RFC 7748 section 6.1.
const ALICE_SECRET = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_SECRET = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

// RFC 8439 section 2.8.2.
const AEAD = {
  key: toHex(range(0x80, 0x9f)),
  nonce: '070000004041424344454647',
  aad: '50515253c0c1c2c3c4c5c6c7',
  plaintext: "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ciphertext:
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
  tag: '1ae10b594f09e26a7e902ecbd0600691',
};

// RFC 5869 appendix A, test cases 1-3 (SHA-256).
const HKDF_VECTORS = [
  {
    name: 'test case 1',
    ikm: toHex(new Uint8Array(22).fill(0x0b)),
    salt: '000102030405060708090a0b0c',
    info: 'f0f1f2f3f4f5f6f7f8f9',
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'test case 2 (long inputs)',
    ikm: toHex(range(0x00, 0x4f)),
    salt: toHex(range(0x60, 0xaf)),
    info: toHex(range(0xb0, 0xff)),
    okm: 'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'test case 3 (empty salt and info)',
    ikm: toHex(new Uint8Array(22).fill(0x0b)),
    salt: '',
    info: '',
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

function isCryptoError(error: unknown): boolean {
  return error instanceof MccError && error.code === 'ERR_CRYPTO';
}

for (const suite of suites) {
  describe(`${suite.name} suite: published vectors`, () => {
    it('SHA-256("abc") (FIPS 180-2)', () => {
      const digest = suite.sha256(new TextEncoder().encode('abc'));
      assert.equal(toHex(digest), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    it('HMAC-SHA-256 (RFC 4231 test case 2)', () => {
      const mac = suite.hmacSha256(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?'));
      assert.equal(toHex(mac), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    });

    for (const v of HKDF_VECTORS) {
      it(`HKDF-SHA-256 RFC 5869 ${v.name}`, () => {
        const okm = suite.hkdf(hex(v.ikm), hex(v.salt), hex(v.info), v.okm.length / 2);
        assert.equal(toHex(okm), v.okm);
      });
    }

    for (const v of ED25519_VECTORS) {
      it(`Ed25519 RFC 8032 ${v.name}`, () => {
        const secret = hex(v.secret);
        const message = hex(v.message);
        assert.equal(toHex(suite.ed25519PublicKey(secret)), v.public);
        const signature = suite.sign(message, secret);
        assert.equal(toHex(signature), v.signature);
        assert.equal(suite.verify(signature, message, hex(v.public)), true);
      });
    }

    it('Ed25519 verify rejects a flipped bit anywhere (signature, message, key)', () => {
      const v = ED25519_VECTORS[2];
      const signature = hex(v.signature);
      const message = hex(v.message);
      const publicKey = hex(v.public);
      for (const bit of [0, 7, 100, 255, 256, 511]) {
        const bad = Uint8Array.from(signature);
        bad[bit >> 3] ^= 1 << (bit & 7);
        assert.equal(suite.verify(bad, message, publicKey), false, `signature bit ${bit}`);
      }
      const badMessage = Uint8Array.from(message);
      badMessage[0] ^= 0x01;
      assert.equal(suite.verify(signature, badMessage, publicKey), false, 'message bit');
      const badKey = Uint8Array.from(publicKey);
      badKey[5] ^= 0x10;
      assert.equal(suite.verify(signature, message, badKey), false, 'public key bit');
    });

    it('Ed25519 verify returns false on malformed input instead of throwing', () => {
      const v = ED25519_VECTORS[0];
      const signature = hex(v.signature);
      const publicKey = hex(v.public);
      const empty = new Uint8Array(0);
      assert.equal(suite.verify(signature.subarray(0, 63), empty, publicKey), false);
      assert.equal(suite.verify(new Uint8Array(65), empty, publicKey), false);
      assert.equal(suite.verify(signature, empty, publicKey.subarray(0, 31)), false);
      assert.equal(suite.verify(signature, empty, new Uint8Array(33)), false);
      assert.equal(suite.verify(signature, empty, new Uint8Array(32)), false);
      assert.equal(suite.verify(new Uint8Array(64), empty, publicKey), false);
      assert.equal(suite.verify(signature, empty, new Uint8Array(32).fill(0xff)), false);
      assert.equal(suite.verify(null as unknown as Uint8Array, empty, publicKey), false);
      assert.equal(suite.verify(signature, 'text' as unknown as Uint8Array, publicKey), false);
      // Non-canonical S (S + L) must be rejected (RFC 8032 section 5.1.7, malleability).
      const s = BigInt(`0x${toHex(signature.subarray(32).reverse())}`);
      const L = 2n ** 252n + 27742317777372353535851937790883648493n;
      const sPlusL = Uint8Array.from(Buffer.from((s + L).toString(16).padStart(64, '0'), 'hex')).reverse();
      const malleated = Uint8Array.from(signature);
      malleated.set(sPlusL, 32);
      assert.equal(suite.verify(malleated, empty, publicKey), false);
    });

    for (const [i, v] of X25519_VECTORS.entries()) {
      it(`X25519 RFC 7748 section 5.2 vector ${i + 1}`, () => {
        assert.equal(toHex(suite.x25519(hex(v.scalar), hex(v.u))), v.out);
      });
    }

    it('X25519 RFC 7748 section 5.2 iterated (1 and 1000 iterations)', () => {
      let k: Uint8Array = new Uint8Array(32);
      k[0] = 9;
      let u: Uint8Array = Uint8Array.from(k);
      for (let i = 1; i <= 1000; i++) {
        const next = suite.x25519(k, u);
        u = k;
        k = next;
        if (i === 1) assert.equal(toHex(k), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
      }
      assert.equal(toHex(k), '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
    });

    it('X25519 RFC 7748 section 6.1 Alice/Bob agreement', () => {
      assert.equal(toHex(suite.x25519PublicKey(hex(ALICE_SECRET))), ALICE_PUBLIC);
      assert.equal(toHex(suite.x25519PublicKey(hex(BOB_SECRET))), BOB_PUBLIC);
      assert.equal(toHex(suite.x25519(hex(ALICE_SECRET), hex(BOB_PUBLIC))), SHARED);
      assert.equal(toHex(suite.x25519(hex(BOB_SECRET), hex(ALICE_PUBLIC))), SHARED);
    });

    it('X25519 throws ERR_CRYPTO on low-order points (all-zero shared secret)', () => {
      const secret = hex(ALICE_SECRET);
      const lowOrder = [
        new Uint8Array(32), // u = 0
        Uint8Array.from([1, ...new Uint8Array(31)]), // u = 1
        hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'), // order 8
        hex('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'), // order 8
        hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), // p - 1
      ];
      for (const point of lowOrder) assert.throws(() => suite.x25519(secret, point), isCryptoError, toHex(point));
      assert.throws(() => suite.x25519(secret, new Uint8Array(31)), isCryptoError);
    });

    it('ChaCha20-Poly1305 RFC 8439 section 2.8.2 seal and open', () => {
      const key = hex(AEAD.key);
      const nonce = hex(AEAD.nonce);
      const aad = hex(AEAD.aad);
      const plaintext = new TextEncoder().encode(AEAD.plaintext);
      const sealed = suite.seal(key, nonce, plaintext, aad);
      assert.equal(toHex(sealed), AEAD.ciphertext + AEAD.tag);
      const opened = suite.open(key, nonce, sealed, aad);
      assert.ok(opened);
      assert.equal(new TextDecoder().decode(opened), AEAD.plaintext);
    });

    it('ChaCha20-Poly1305 open returns null on a tampered tag, ciphertext or aad', () => {
      const key = hex(AEAD.key);
      const nonce = hex(AEAD.nonce);
      const aad = hex(AEAD.aad);
      const sealed = hex(AEAD.ciphertext + AEAD.tag);
      const flip = (bytes: Uint8Array, index: number): Uint8Array => {
        const copy = Uint8Array.from(bytes);
        copy[index] ^= 0x01;
        return copy;
      };
      assert.equal(suite.open(key, nonce, flip(sealed, sealed.length - 1), aad), null, 'tag');
      assert.equal(suite.open(key, nonce, flip(sealed, 0), aad), null, 'ciphertext');
      assert.equal(suite.open(key, nonce, sealed, flip(aad, 3)), null, 'aad');
      assert.equal(suite.open(key, nonce, sealed), null, 'missing aad');
      assert.equal(suite.open(key, flip(nonce, 11), sealed, aad), null, 'nonce');
      assert.equal(suite.open(flip(key, 0), nonce, sealed, aad), null, 'key');
      assert.equal(suite.open(key, nonce, sealed.subarray(0, 15), aad), null, 'shorter than a tag');
      assert.equal(suite.open(key, nonce, sealed.subarray(0, sealed.length - 1), aad), null, 'truncated');
    });

    it('ChaCha20-Poly1305 seals and opens an empty plaintext', () => {
      const key = hex(AEAD.key);
      const nonce = hex(AEAD.nonce);
      const sealed = suite.seal(key, nonce, new Uint8Array(0));
      assert.equal(sealed.length, 16);
      assert.deepEqual(suite.open(key, nonce, sealed), new Uint8Array(0));
    });
  });
}
