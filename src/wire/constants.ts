/**
 * Wire-level constants shared by the codec, the session layer and later the tunnel
 * and relay layers. The datagram layout they describe is specified in docs/protocol.md.
 */

/** Protocol version carried in the high nibble of every datagram's first byte and in `Envelope.version`. */
export const PROTOCOL_VERSION = 1;

/**
 * Largest datagram a node sends (bytes, UDP payload). 1200 is the QUIC floor: it
 * crosses every IPv6 path (1280 MTU minus headers) without IP fragmentation.
 */
export const MAX_DATAGRAM_SIZE = 1200;

/** High nibble of byte 0: the protocol version, so a v2 datagram is recognisable before any crypto. */
export const VERSION_NIBBLE = PROTOCOL_VERSION << 4;

// Byte 0 of every datagram kind; src/wire/registry.ts says what each is and who handles it.
/** Byte 0 of a session datagram (sealed Envelope between two node identities). */
export const PACKET_SESSION = VERSION_NIBBLE | 0x1; // 0x11
/** Byte 0 of a tunnel datagram. */
export const PACKET_TUNNEL = VERSION_NIBBLE | 0x2; // 0x12
/** Byte 0 of a relayed datagram or hole-punch probe. */
export const PACKET_RELAYED = VERSION_NIBBLE | 0x3; // 0x13
/** Byte 0 of an identify request (cleartext first-contact probe). */
export const PACKET_IDENTIFY_REQUEST = VERSION_NIBBLE | 0x4; // 0x14
/** Byte 0 of an identify response. */
export const PACKET_IDENTIFY_RESPONSE = VERSION_NIBBLE | 0x5; // 0x15
/** Byte 0 of a LAN announcement (multicast on the local link; src/lan/announce.ts). */
export const PACKET_LAN_ANNOUNCE = VERSION_NIBBLE | 0x6; // 0x16

/** The relay header in front of a relayed datagram: kind byte and 8-byte circuit ID. */
export const RELAY_HEADER_SIZE = 1 + 8;
/** Largest datagram that fits a relay circuit (1191): tunnel datagrams are capped here on every path. */
export const MAX_INNER_DATAGRAM_SIZE = MAX_DATAGRAM_SIZE - RELAY_HEADER_SIZE;

/** Node ID length: a raw Ed25519 public key. */
export const NODE_ID_SIZE = 32;
/** Boot ID length: 48-bit wall-clock milliseconds + 16 random bits. */
export const BOOT_ID_SIZE = 8;
/** Datagram counter length: big-endian uint64. */
export const COUNTER_SIZE = 8;
/** ChaCha20-Poly1305 key length. */
export const AEAD_KEY_SIZE = 32;
/** ChaCha20-Poly1305 nonce length (4 zero bytes followed by the 8-byte counter). */
export const AEAD_NONCE_SIZE = 12;
/** Poly1305 authentication tag length appended to every ciphertext. */
export const AEAD_TAG_SIZE = 16;

/** Offsets inside the session header. */
export const SESSION_SENDER_OFFSET = 1;
/** Offset of the sender boot ID. */
export const SESSION_BOOT_OFFSET = SESSION_SENDER_OFFSET + NODE_ID_SIZE; // 33
/** Offset of the big-endian counter. */
export const SESSION_COUNTER_OFFSET = SESSION_BOOT_OFFSET + BOOT_ID_SIZE; // 41
/** Cleartext session header: kind byte, sender ID, boot ID, counter (49 bytes); also the AEAD associated data. */
export const SESSION_HEADER_SIZE = SESSION_COUNTER_OFFSET + COUNTER_SIZE; // 49

/** Bytes a session datagram adds around the encoded Envelope (header + tag = 65). */
export const SESSION_OVERHEAD = SESSION_HEADER_SIZE + AEAD_TAG_SIZE;

/** Largest encoded Envelope that still fits in one session datagram (1135 bytes). */
export const MAX_ENVELOPE_SIZE = MAX_DATAGRAM_SIZE - SESSION_OVERHEAD;

/**
 * Minimum size of a first-contact request datagram (anti-amplification): requests sent
 * without a valid token are padded via `Envelope.padding` to at least this many bytes,
 * so that the responder may answer with up to the same number of bytes.
 */
export const MIN_FIRST_CONTACT_DATAGRAM_SIZE = 256;

/** Address-validation token length: 1-byte epoch tag + 15-byte truncated HMAC. */
export const TOKEN_SIZE = 16;
