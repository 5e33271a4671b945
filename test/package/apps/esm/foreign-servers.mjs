// Prints the foreign servers of the app database, so the suite sees what a migration left.
import pg from 'pg';

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const { rows } = await client.query('SELECT srvname FROM pg_foreign_server ORDER BY srvname');
await client.end();
console.log(`FOREIGN_SERVERS ${JSON.stringify(rows.map((row) => row.srvname))}`);
