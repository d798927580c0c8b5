/**
 * Gzip in independent blocks, as pigz does: the input is cut into blocks of BLOCK_BYTES, each
 * deflated on its own (several at once on zlib's thread pool) and ended with a sync flush, so
 * that the pieces join into one ordinary deflate stream inside one gzip member, which any
 * gunzip reads. Each block is deflated at level 1, or stored as it is when a sample of its
 * bytes looks random (compressed files, random weights): deflate spends as much CPU failing
 * to shrink those as it spends shrinking text. Every choice depends on the block's bytes
 * alone, so equal input gives equal output, however the input arrives.
 */
import { promisify } from "node:util";
import { constants, crc32, deflateRaw, type ZlibOptions } from "node:zlib";

/**
 * Level 1: a workspace is mostly either text, which level 1 still shrinks to within about a
 * tenth of level 6, or weights, images and archives, which no level shrinks; level 6 costs
 * about three times the CPU for that tenth, and packing is on the launch's critical path.
 */
const LEVEL = 1;
/** Big enough that restarting the 32 KiB window at each block costs well under 1% of size. */
const BLOCK_BYTES = 1024 * 1024;
/** Blocks deflating at once: zlib's thread pool holds four threads. */
const IN_FLIGHT = 4;
/** Every this-many-th byte of a block is sampled. */
const SAMPLE_STRIDE = 16;
/**
 * Bits per byte of the sample above which a block is stored: random bytes measure about
 * 7.997 with this sample size; text, code and most numeric data measure well under 7.5.
 */
const STORE_ABOVE_BITS = 7.95;

/** Magic, deflate, no flags, no mtime, no extra flags, OS "unknown" (as node-tar's portable gzip). */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]);
/** A last, empty block with fixed codes: ends the deflate stream the sync-flushed blocks leave open. */
const LAST_BLOCK = Buffer.from([0x03, 0x00]);

const deflateRawAsync = promisify(deflateRaw) as (buf: Buffer, options: ZlibOptions) => Promise<Buffer>;

export async function* blockGzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield HEADER;
  let crc = 0;
  let total = 0;
  const deflating: Promise<Buffer>[] = [];
  for await (const block of blocksOf(input)) {
    crc = crc32(block, crc);
    total += block.length;
    deflating.push(
      deflateRawAsync(block, {
        level: looksRandom(block) ? 0 : LEVEL,
        finishFlush: constants.Z_SYNC_FLUSH,
        chunkSize: 256 * 1024,
      }),
    );
    // Rejections are taken when the block's turn comes; until then none is left unhandled.
    deflating[deflating.length - 1].catch(() => {});
    if (deflating.length >= IN_FLIGHT) yield await (deflating.shift() as Promise<Buffer>);
  }
  while (deflating.length > 0) yield await (deflating.shift() as Promise<Buffer>);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  yield Buffer.concat([LAST_BLOCK, trailer]);
}

/** The input re-cut into blocks of exactly BLOCK_BYTES (the last one shorter). */
async function* blocksOf(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of input) {
    pending.push(piece);
    pendingBytes += piece.length;
    if (pendingBytes < BLOCK_BYTES) continue;
    const all = Buffer.concat(pending, pendingBytes);
    let at = 0;
    for (; at + BLOCK_BYTES <= all.length; at += BLOCK_BYTES) yield all.subarray(at, at + BLOCK_BYTES);
    pending = at < all.length ? [all.subarray(at)] : [];
    pendingBytes = all.length - at;
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** Shannon entropy of a strided sample of the block's bytes, against STORE_ABOVE_BITS. */
export function looksRandom(block: Buffer): boolean {
  const counts = new Uint32Array(256);
  let n = 0;
  for (let i = 0; i < block.length; i += SAMPLE_STRIDE) {
    counts[block[i]]++;
    n++;
  }
  if (n < 4096) return false;
  let bits = 0;
  for (const count of counts) {
    if (count > 0) {
      const p = count / n;
      bits -= p * Math.log2(p);
    }
  }
  return bits > STORE_ABOVE_BITS;
}
