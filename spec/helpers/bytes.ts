/**
 * Node's Buffer methods on the library's Uint8Arrays, for assertions: a view over the same
 * memory, no copy. (Under Node the library hands out Buffers anyway; its types say Uint8Array.)
 */
export function nodeBuf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
