/** The wire module: datagram constants, the Envelope codec and address conversions. */
export * from './constants.js';
export * from './codec.js';
export * from './address.js';
