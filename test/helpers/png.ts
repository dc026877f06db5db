// Reads a PNG screenshot enough to tell it is a real picture: the signature, the IHDR size, and
// how many distinct colours its pixels hold (a blank or failed render is one colour). Decodes
// 8-bit non-interlaced greyscale/RGB/RGBA (what Chromium writes) with node:zlib: inflate the
// IDAT stream, undo each scanline's filter (PNG specification, section 9), count the colours.

import { inflateSync } from 'node:zlib'

export interface PngSummary {
  readonly width: number
  readonly height: number
  readonly colours: number
}

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export function summarizePng(png: Buffer): PngSummary {
  if (png.length < 33 || !png.subarray(0, 8).equals(signature))
    throw new Error('not a PNG: bad signature')
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.toString('latin1', offset + 4, offset + 8)
    const data = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      const depth = data[8]
      const colourType = data[9]
      const interlace = data[12]
      channels = colourType === 0 ? 1 : colourType === 2 ? 3 : colourType === 6 ? 4 : 0
      if (depth !== 8 || channels === 0 || interlace !== 0)
        throw new Error(`PNG layout not handled: depth ${depth}, colour type ${colourType}`)
    } else if (type === 'IDAT') idat.push(data)
    else if (type === 'IEND') break
    offset += 12 + length
  }
  if (width === 0 || height === 0) throw new Error('PNG without IHDR')
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const pixels = Buffer.alloc(stride * height)
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)]
    const src = row * (stride + 1) + 1
    const dst = row * stride
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i] as number
      const a = i >= channels ? (pixels[dst + i - channels] as number) : 0
      const b = row > 0 ? (pixels[dst - stride + i] as number) : 0
      const c = row > 0 && i >= channels ? (pixels[dst - stride + i - channels] as number) : 0
      let value: number
      if (filter === 0) value = x
      else if (filter === 1) value = x + a
      else if (filter === 2) value = x + b
      else if (filter === 3) value = x + ((a + b) >> 1)
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        value = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
      } else throw new Error(`PNG row ${row}: unknown filter ${filter}`)
      pixels[dst + i] = value & 0xff
    }
  }
  const colours = new Set<number>()
  for (let i = 0; i < pixels.length; i += channels) {
    let key = 0
    for (let k = 0; k < Math.min(channels, 3); k++) key = key * 256 + (pixels[i + k] as number)
    colours.add(key)
  }
  return { width, height, colours: colours.size }
}
