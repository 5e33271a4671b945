import type pg from 'pg';
import { quoteQualifiedName, type QualifiedName } from '../../src/sql/index.js';

/** The products table of the seed story, with a few rows whose values are easy to check. */
export const PRODUCTS_DDL = `CREATE TABLE products (
  id bigint PRIMARY KEY,
  name varchar(255) NOT NULL,
  description text,
  price integer,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
)`;

export const PRODUCT_ROWS = [
  {
    id: '1',
    name: 'Kettle',
    description: 'Stainless, 1.7 l',
    price: 2999,
    created_at: '2020-01-02 03:04:05.123456',
    updated_at: '2021-06-07 08:09:10',
  },
  {
    id: '2',
    name: "O'Brien's mug",
    description: null,
    price: 850,
    created_at: '2020-02-03 04:05:06',
    updated_at: '2020-02-03 04:05:06',
  },
  {
    id: '3',
    name: 'Tea \\ leaves "loose"',
    description: 'ünïcødé ✓',
    price: null,
    created_at: '2019-12-31 23:59:59.999999',
    updated_at: '2020-01-01 00:00:00',
  },
];

export async function seedProducts(client: pg.Client): Promise<void> {
  await client.query(PRODUCTS_DDL);
  for (const row of PRODUCT_ROWS) {
    await client.query(
      'INSERT INTO products (id, name, description, price, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [row.id, row.name, row.description, row.price, row.created_at, row.updated_at],
    );
  }
}

/** Rows read back with timestamps as text, so values compare exactly (no time zone drift). */
export async function readProducts(client: pg.Client, table: QualifiedName): Promise<unknown[]> {
  const { rows } = await client.query(
    `SELECT t.id::text AS id, t.name, t.description, t.price, t.created_at::text AS created_at, t.updated_at::text AS updated_at
     FROM ${quoteQualifiedName(table)} AS t ORDER BY t.id`,
  );
  return rows;
}

export const PRODUCT_COLUMNS = [
  { name: 'id', type: 'bigint', notNull: true },
  { name: 'name', type: 'varchar(255)', notNull: true },
  { name: 'description', type: 'text' },
  { name: 'price', type: 'integer' },
  { name: 'created_at', type: 'timestamp without time zone', notNull: true },
  { name: 'updated_at', type: 'timestamp without time zone', notNull: true },
];
