import { PROPORTIONS, type GenContext } from './context';
import * as text from './text';

/** The rows of one style in photos.csv and skus.csv, with their defects. */

// Style ids stay far below 2e9: a styleId from here never exists.
const orphanStyle = (g: GenContext): number => 2_000_000_000 + g.r.int(100_000_000);

export function writePhotos(g: GenContext, styleId: number): void {
  const { r, outs, ids, defect, count } = g;
  for (let k = r.count(PROPORTIONS.photos); k > 0; k--) {
    const id = ++ids.photo;
    const hash = text.hexHash(r);
    const url = text.photoUrl(id, hash, 668);
    const thumb = text.photoUrl(id, hash, 300);
    switch (defect(5)) {
      case 0:
        count('photos: unterminated thumbnail_url (loaded)');
        outs.photos.line(`${id},${styleId},"${url}","${thumb}`);
        break;
      case 1:
        count('photos: wrong field count');
        outs.photos.line(`${id},${styleId},"${url}"`);
        break;
      case 2:
        count('photos: duplicate id');
        outs.photos.line(`${id},${styleId},"${url}","${thumb}"`);
        outs.photos.line(`${id},${styleId},"${thumb}","${thumb}"`);
        break;
      case 3:
        count('photos: orphan');
        outs.photos.line(`${id},${styleId},"${url}","${thumb}"`);
        outs.photos.line(`${++ids.photo},${orphanStyle(g)},"${url}","${thumb}"`);
        break;
      case 4:
        count('photos: non-numeric styleId');
        outs.photos.line(`${id},style${styleId},"${url}","${thumb}"`);
        break;
      default:
        outs.photos.line(`${id},${styleId},"${url}","${thumb}"`);
    }
  }
}

export function writeSkus(g: GenContext, styleId: number): void {
  const { r, outs, ids, defect, count } = g;
  for (let k = r.count(PROPORTIONS.skus); k > 0; k--) {
    const id = ++ids.sku;
    const size = text.quote(r.pick(text.SIZES));
    const quantity = r.int(60);
    switch (defect(4)) {
      case 0:
        count('skus: non-numeric quantity');
        outs.skus.line(`${id},${styleId},${size},"${quantity} left"`);
        break;
      case 1:
        count('skus: wrong field count');
        outs.skus.line(`${id},${styleId},${quantity}`);
        break;
      case 2:
        count('skus: duplicate id');
        outs.skus.line(`${id},${styleId},${size},${quantity}`);
        outs.skus.line(`${id},${styleId},${size},${quantity + 1}`);
        break;
      case 3:
        count('skus: orphan');
        outs.skus.line(`${id},${styleId},${size},${quantity}`);
        outs.skus.line(`${++ids.sku},${orphanStyle(g)},${size},${quantity}`);
        break;
      default:
        outs.skus.line(`${id},${styleId},${size},${quantity}`);
    }
  }
}
