/**
 * oxen-encoding for JavaScript: bt-encoding (encoder, strict decoder, streaming consumers) and the
 * key encodings (hex, base32z, base64) as oxenc writes and reads them. The package exposes this
 * folder as `oxenmq-ts/oxenc`.
 */
export { BT_MAX_DEPTH, type BtDecodeOptions, type BtDict, type BtEncodable, type BtEncodeOptions, type BtValue } from './bt.js';
export { btBigInt, btBytes, btDecode, btDecodePrefix, btDict, btInteger, btList, btNumber, btString } from './bt-decode.js';
export { btEncode } from './bt-encode.js';
export { BtDictConsumer, BtListConsumer } from './bt-consumer.js';
export * from './encoding.js';
