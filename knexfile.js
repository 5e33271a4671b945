// Knex configuration for the demo: the "app" database, where the link to "legacy" is installed.
// `npm run demo` sets APP_DATABASE_URL and the LEGACY_DB_* variables the migrations read.
if (!process.env.APP_DATABASE_URL) {
  throw new Error('Set APP_DATABASE_URL to the app database, e.g. postgres://user:password@localhost:5432/app');
}

export default {
  client: 'pg',
  connection: process.env.APP_DATABASE_URL,
  migrations: { directory: './migrations' },
};
