import type { Random } from './prng';

/** Vocabulary and builders for field values sized like the real export's. */

const ADJECTIVES = [
  'Camo',
  'Bright',
  'Heir',
  'Pumped',
  "Slacker's",
  'Morning',
  'Summer',
  'Alpine',
  'Urban',
  'Velvet',
  'Coastal',
  'Midnight',
  'Rustic',
  'Classic',
  'Retro',
  'Nimble',
  'Sturdy',
  'Breezy',
  'Cozy',
  'Electric',
];
const NOUNS = [
  'Onesie',
  'Sunglasses',
  'Forever',
  'Up',
  'Slacks',
  'Joggers',
  'Jacket',
  'Kicks',
  'Cap',
  'Shorts',
  'Sweater',
  'Boots',
  'Hoodie',
  'Loafers',
  'Trench',
  'Beanie',
  'Sneakers',
  'Parka',
  'Tote',
  'Vest',
];
export const CATEGORIES = [
  'Jackets',
  'Accessories',
  'Pants',
  'Kicks',
  'Dress Shoes',
  'Basketball Shoes',
  'Heels',
  'Shirts',
  'Hats',
  'Bags',
];
const SLOGANS = [
  'Blend in to your crowd',
  "You've got to wear shades",
  "Where you're going you might not need roads",
  'Full court support',
  'Stay cozy, stay sharp',
  'Made for the long way home',
  'Walk like you mean it',
  'Built to outlast the trend',
  'Light enough to forget',
  'Comfort without compromise',
];
const SENTENCES = [
  'The So Fatigues will wake you up and fit you in.',
  'This high fashion item is for the seasoned traveler who wants to look good on the go.',
  'Sleek, lightweight and made to move with you through every part of your day.',
  'Crafted from premium materials that hold their shape wash after wash.',
  'Whether you are heading to the office or the trail, this piece keeps up.',
  'A relaxed fit through the body with just enough structure at the shoulders.',
  'Reinforced stitching at every stress point means it is ready for years of wear.',
  'Pair it with anything in your closet; it was designed to work with all of it.',
  'Our designers spent two seasons refining the cut until it felt effortless.',
  'Breathable lining keeps you cool when the afternoon heats up.',
];
const QUOTED_SENTENCES = [
  'Customers call it "the last one you will ever need."',
  'Our team nicknamed it "the Monday saver," and the name stuck.',
];
export const FEATURES = [
  'Fabric',
  'Sole',
  'Material',
  'Buttons',
  'Lenses',
  'Frame',
  'Stitching',
  'Fit',
  'Cut',
  'Closure',
  'Lining',
];
export const FEATURE_VALUES = [
  'Canvas',
  'Rubber',
  'FullControlSkin',
  'Brass',
  'Ultrasheen',
  'Double Stitch',
  'Skinny',
  '100% Cotton',
  'Black Resin',
  'Metal',
  'White Leather',
  'Nylon, water resistant',
  'Relaxed',
  'Zipper',
];
export const COLORS = [
  'Forest Green & Black',
  'Desert Brown & Tan',
  'Ocean Blue & Grey',
  'Digital Red & Black',
  'Sky Blue & White',
  'Black',
  'Goldenrod',
  'Cream & Navy',
  'Dark Grey & Black',
  'Plum & Gold',
  'Sand',
  'Olive',
];
export const SIZES = [
  'XS',
  'S',
  'M',
  'L',
  'XL',
  'XXL',
  '7',
  '7.5',
  '8',
  '8.5',
  '9',
  '9.5',
  '10',
  '10.5',
  '11',
  '12',
  'One Size',
];

/** A CSV field in quotes, with inner quotes doubled. */
export const quote = (s: string): string => `"${s.includes('"') ? s.replace(/"/g, '""') : s}"`;

export const productName = (r: Random): string => `${r.pick(ADJECTIVES)} ${r.pick(NOUNS)}`;

export function slogan(r: Random): string {
  return r.next() < 0.02 ? `Say "hello" to ${r.pick(NOUNS).toLowerCase()}` : r.pick(SLOGANS);
}

/** 3 to 6 sentences: a few hundred characters; sometimes with quotes or a line break. */
export function description(r: Random, multiline: boolean): string {
  const n = 3 + r.int(4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(r.next() < 0.03 ? r.pick(QUOTED_SENTENCES) : r.pick(SENTENCES));
  return multiline ? `${parts.slice(0, 2).join(' ')}\n${parts.slice(2).join(' ')}` : parts.join(' ');
}

/** An Unsplash-style photo URL of about 150 characters; `width` 668 for photos, 300 for thumbnails. */
export function photoUrl(photoKey: number, hash: string, width: number): string {
  return (
    `https://images.unsplash.com/photo-${1500000000000 + photoKey}-${hash}` +
    `?ixlib=rb-1.2.1&ixid=MnwxMjA3fDB8MHxwaG90by1wYWdlfHx8fGVufDB8fHx8&auto=format&fit=crop&w=${width}&q=80`
  );
}

export const hexHash = (r: Random): string =>
  r.int(0x1000000).toString(16).padStart(6, '0') + r.int(0x1000000).toString(16).padStart(6, '0');
