// The app's own products table, filled once from legacy's rows through the link.
/** @param {import('knex').Knex} knex */
export async function up(knex) {
  await knex.raw(`CREATE TABLE products (
    id bigint PRIMARY KEY,
    name varchar(255) NOT NULL,
    description text,
    price integer,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL)`);
  await knex.raw('INSERT INTO products SELECT * FROM legacy_products');
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.raw('DROP TABLE products');
}
