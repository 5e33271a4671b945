// Knex configuration for the demo: two databases, each with its own migrations.
//   npx knex migrate:latest --env app      (APP_DATABASE_URL)
//   npx knex migrate:latest --env legacy   (LEGACY_DATABASE_URL)
// `npm run demo` sets these and the variables the migrations read.

/** @param {string} variable */
const url = (variable) => () => {
  const value = process.env[variable];
  if (!value) throw new Error(`Set ${variable} to the database URL, e.g. postgres://user:password@localhost:5432/db`);
  return value;
};

export default {
  app: { client: 'pg', connection: url('APP_DATABASE_URL'), migrations: { directory: './migrations/app' } },
  legacy: { client: 'pg', connection: url('LEGACY_DATABASE_URL'), migrations: { directory: './migrations/legacy' } },
};
