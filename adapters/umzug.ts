// The Umzug adapter (RunnableMigration) is not built yet; the entry point exists so the
// package layout is stable. Until then, run migrations with runMigration from 'pg-sync-link'.
export {};
