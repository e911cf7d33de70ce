// Screenshots of the X display (Xvfb) as PNG: `xwd` dumps the root window,
// this file turns the dump into a PNG without any npm dependency.
// (WebKitWebDriver's own screenshot command hangs under Xvfb with
// WebKitGTK 2.50, so the screen is captured the way a person would see it.)
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';

const run = promisify(execFile);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** Encodes 8-bit RGB rows (no filter byte) as a PNG. */
export function encodePng(width, height, rgb) {
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Converts a 24/32-bit TrueColor ZPixmap XWD dump to a PNG. */
export function xwdToPng(xwd) {
  const u32 = (i) => xwd.readUInt32BE(i * 4);
  const headerSize = u32(0);
  const width = u32(4);
  const height = u32(5);
  const byteOrder = u32(7);
  const bpp = u32(11);
  const bytesPerLine = u32(12);
  const [rMask, gMask, bMask] = [u32(14), u32(15), u32(16)];
  const ncolors = u32(19);
  if (bpp !== 32 && bpp !== 24) throw new Error(`unsupported xwd: ${bpp} bits per pixel`);
  const shift = (m) => 31 - Math.clz32(m & -m);
  const [rs, gs, bs] = [shift(rMask), shift(gMask), shift(bMask)];
  const data = xwd.subarray(headerSize + ncolors * 12);
  const rgb = Buffer.alloc(width * height * 3);
  const bytes = bpp / 8;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * bytesPerLine + x * bytes;
      const px =
        bytes === 4
          ? byteOrder === 0
            ? data.readUInt32LE(o)
            : data.readUInt32BE(o)
          : byteOrder === 0
            ? data[o] | (data[o + 1] << 8) | (data[o + 2] << 16)
            : (data[o] << 16) | (data[o + 1] << 8) | data[o + 2];
      const d = (y * width + x) * 3;
      rgb[d] = (px & rMask) >>> rs;
      rgb[d + 1] = (px & gMask) >>> gs;
      rgb[d + 2] = (px & bMask) >>> bs;
    }
  }
  return encodePng(width, height, rgb);
}

/** Saves the whole X display as a PNG. */
export async function screenshotDisplay(path, display = process.env.DISPLAY) {
  const { stdout } = await run('xwd', ['-root', '-silent', '-display', display], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  await writeFile(path, xwdToPng(stdout));
}
