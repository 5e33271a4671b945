// The products table every write benchmark uses, and bulk rows for it (the seed stories' shape).

export const PRODUCT_COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];

/** @param {string} name */
export const productTable = (name) => `CREATE TABLE ${name} (
  id bigint PRIMARY KEY, name varchar(255) NOT NULL, description text, price integer,
  created_at timestamp without time zone NOT NULL, updated_at timestamp without time zone NOT NULL)`;

/** An INSERT ... SELECT of `count` rows with ids from `from`. */
export const productRows = (/** @type {string} */ table, /** @type {number} */ count, from = 1) =>
  `INSERT INTO ${table} SELECT g, 'product ' || g, repeat('x', 60), g % 5000, timestamp '2020-01-01' + g * interval '1 second', timestamp '2024-01-01' FROM generate_series(${from}, ${from + count - 1}) g`;
