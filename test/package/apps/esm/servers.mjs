// Starts the two test servers from pg-sync-link/testing, prints where they are as one JSON line,
// and stops them when stdin closes (the suite ends it that way, also when it fails).
import pg from 'pg';
import { startTestServers } from 'pg-sync-link/testing';

const { servers, dispose } = await startTestServers();
const described = {};
for (const [name, server] of Object.entries(servers)) {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const { rows } = await client.query('SHOW server_version');
  await client.end();
  const { host, port, peerHost, peerPort, user, password, database, url, major } = server;
  described[name] = {
    host,
    port,
    peerHost,
    peerPort,
    user,
    password,
    database,
    url,
    major,
    version: rows[0].server_version,
  };
}
console.log(`SERVERS ${JSON.stringify(described)}`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await dispose();
  process.exit(0);
});
