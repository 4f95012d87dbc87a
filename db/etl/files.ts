/**
 * The six files of the Atelier export (shared/contract/csv-format.md): headers, target
 * tables and what each column must hold. Order is load order: every parent file comes
 * before the files that reference it.
 */

export type ColumnType =
  /** The row's own id: an integer, unique within the file (the first occurrence wins). */
  | 'id'
  /** An id that must name a row already loaded from `parent`. */
  | 'parent'
  /** A non-negative integer (a quantity, or a related product id where 0 means "none"). */
  | 'int'
  | 'price'
  /** A price, or the unquoted literal `null` for SQL NULL. */
  | 'price-or-null'
  /** 1/0 or true/false. */
  | 'bool'
  | 'text'
  /** Text, or the unquoted literal `null` for SQL NULL. */
  | 'text-or-null';

export type ParentName = 'product' | 'styles';

export interface ColumnSpec {
  /** Name in the CSV header. */
  header: string;
  /** Column of the target table. */
  column: string;
  type: ColumnType;
  parent?: ParentName;
}

export interface FileSpec {
  file: string;
  table: string;
  columns: readonly ColumnSpec[];
  /** A quoted field whose closing quote is missing ends at the end of its line. */
  quotedFieldsEndAtLineEnd: boolean;
  /** Rows whose column of this name is 0 mean "none" and are dropped silently. */
  dropWhenZero?: string;
}

const col = (header: string, column: string, type: ColumnType, parent?: ParentName): ColumnSpec =>
  parent === undefined ? { header, column, type } : { header, column, type, parent };

export const FILES: readonly FileSpec[] = [
  {
    file: 'product.csv',
    table: 'product',
    columns: [
      col('id', 'id', 'id'),
      col('name', 'name', 'text'),
      col('slogan', 'slogan', 'text'),
      col('description', 'description', 'text'),
      col('category', 'category', 'text'),
      col('default_price', 'default_price', 'price'),
    ],
    quotedFieldsEndAtLineEnd: false,
  },
  {
    file: 'features.csv',
    table: 'features',
    columns: [
      col('id', 'id', 'id'),
      col('product_id', 'product_id', 'parent', 'product'),
      col('feature', 'feature', 'text'),
      col('value', 'value', 'text-or-null'),
    ],
    quotedFieldsEndAtLineEnd: false,
  },
  {
    file: 'styles.csv',
    table: 'styles',
    columns: [
      col('id', 'id', 'id'),
      col('productId', 'product_id', 'parent', 'product'),
      col('name', 'name', 'text'),
      col('sale_price', 'sale_price', 'price-or-null'),
      col('original_price', 'original_price', 'price'),
      col('default_style', 'default_style', 'bool'),
    ],
    quotedFieldsEndAtLineEnd: false,
  },
  {
    file: 'photos.csv',
    table: 'photos',
    columns: [
      col('id', 'id', 'id'),
      col('styleId', 'style_id', 'parent', 'styles'),
      col('url', 'url', 'text'),
      col('thumbnail_url', 'thumbnail_url', 'text'),
    ],
    quotedFieldsEndAtLineEnd: true,
  },
  {
    file: 'skus.csv',
    table: 'skus',
    columns: [
      col('id', 'id', 'id'),
      col('styleId', 'style_id', 'parent', 'styles'),
      col('size', 'size', 'text'),
      col('quantity', 'quantity', 'int'),
    ],
    quotedFieldsEndAtLineEnd: false,
  },
  {
    file: 'related.csv',
    table: 'related',
    columns: [
      col('id', 'id', 'id'),
      col('current_product_id', 'current_product_id', 'parent', 'product'),
      col('related_product_id', 'related_product_id', 'int'),
    ],
    quotedFieldsEndAtLineEnd: false,
    dropWhenZero: 'related_product_id',
  },
];

/** The header line a file must start with. */
export const headerOf = (spec: FileSpec): string => spec.columns.map((c) => c.header).join(',');

/** Which file's ids a parent reference names. */
export const PARENT_FILE: Record<ParentName, string> = { product: 'product.csv', styles: 'styles.csv' };
