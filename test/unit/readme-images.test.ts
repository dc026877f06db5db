// The README's pictures are drawn by the tool (scripts/draw-readme-images.mjs): every image a
// document shows exists in the repository and is a real picture, and every picture in docs/img
// is shown somewhere and drawn by that script, so none is left behind that the tool did not draw.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { summarizePng } from '../helpers/png.js'

const root = resolve(import.meta.dirname, '../..')
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

/** Repository paths of the images a Markdown file shows (`![alt](path)` and `<img src>`). */
function imagesOf(document: string): string[] {
  const text = readFileSync(join(root, document), 'utf8')
  const targets = [
    ...[...text.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/<img\b[^>]*\bsrc="([^"]+)"/gi)].map((m) => m[1]),
  ]
  return targets
    .filter((t): t is string => t !== undefined)
    .map((t) => relative(root, resolve(dirname(join(root, document)), t)))
}

describe('documentation images', () => {
  const shown = new Map(documents.map((d) => [d, imagesOf(d)]))

  it('the README shows the report and the on-call page', () => {
    expect(shown.get('README.md')).toEqual([
      'docs/img/report-example.png',
      'docs/img/on-call.png',
      'docs/img/on-call-feature.png',
    ])
  })

  it('every image shown exists in the repository and is a real picture', () => {
    for (const [document, images] of shown) {
      for (const image of images) {
        expect(image.startsWith('..'), `${document}: ${image} leaves the repository`).toBe(false)
        expect(existsSync(join(root, image)), `${document}: ${image} is missing`).toBe(true)
        const png = summarizePng(readFileSync(join(root, image)))
        expect(png.width, image).toBeGreaterThanOrEqual(800)
        expect(png.height, image).toBeGreaterThanOrEqual(600)
        expect(png.colours, image).toBeGreaterThan(50)
      }
    }
  })

  it('every picture in docs/img is shown and drawn by scripts/draw-readme-images.mjs', () => {
    const script = readFileSync(join(root, 'scripts/draw-readme-images.mjs'), 'utf8')
    const all = new Set([...shown.values()].flat())
    for (const file of readdirSync(join(root, 'docs/img'))) {
      expect(all.has(`docs/img/${file}`), `docs/img/${file} is shown nowhere`).toBe(true)
      expect(script, `docs/img/${file} is not drawn by the script`).toContain(`'${file}'`)
    }
  })
})
