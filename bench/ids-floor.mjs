// `node bench/ids-floor.mjs`: the floor of block ids. The borrowing side's id function is a
// PL/pgSQL call around a local nextval and a check of the current block; this times that fast
// path alone (no block is ever fetched), a plain PL/pgSQL wrapper of nextval, and the same check
// against a block number cached in a session setting, each as a ratio to a bare nextval.
import { startServer } from '../examples/support/embedded-server.mjs';

const IDS = 200_000;
const RUNS = 7;
const server = await startServer('ids_floor', { durable: true });
try {
  await server.client.query(`CREATE SEQUENCE bare; CREATE SEQUENCE cache AS bigint; CREATE SEQUENCE current_block AS bigint MINVALUE -1 START WITH -1;
SELECT setval('cache', 1000000000000, false); SELECT setval('current_block', 1000, true);
CREATE FUNCTION wrapped() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$BEGIN RETURN pg_catalog.nextval('public.bare'::pg_catalog.regclass); END$$;
CREATE FUNCTION from_block() RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE id bigint := pg_catalog.nextval('public.cache'::pg_catalog.regclass);
BEGIN
  IF id OPERATOR(pg_catalog./) 1000000000 OPERATOR(pg_catalog.=) pg_catalog.pg_sequence_last_value('public.current_block'::pg_catalog.regclass) THEN RETURN id; END IF;
  RAISE EXCEPTION 'the block ran out';
END$$;
CREATE FUNCTION from_cached_block() RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE id bigint := pg_catalog.nextval('public.cache'::pg_catalog.regclass);
BEGIN
  IF id OPERATOR(pg_catalog./) 1000000000 OPERATOR(pg_catalog.=) pg_catalog.current_setting('bench.block', true)::bigint THEN RETURN id; END IF;
  IF id OPERATOR(pg_catalog./) 1000000000 OPERATOR(pg_catalog.=) pg_catalog.pg_sequence_last_value('public.current_block'::pg_catalog.regclass) THEN
    PERFORM pg_catalog.set_config('bench.block', (id OPERATOR(pg_catalog./) 1000000000)::text, false);
    RETURN id;
  END IF;
  RAISE EXCEPTION 'the block ran out';
END$$;`);
  const perId = async (/** @type {string} */ expression) => {
    const start = process.hrtime.bigint();
    await server.client.query(`SELECT count(${expression}) FROM generate_series(1, ${IDS})`);
    return Number(process.hrtime.bigint() - start) / 1e3 / IDS;
  };
  /** @type {Record<string, number[]>} */
  const times = { bare: [], wrapped: [], block: [], cached: [] };
  for (let run = 0; run < RUNS; run += 1) {
    times.bare?.push(await perId(`nextval('bare')`));
    times.wrapped?.push(await perId('wrapped()'));
    times.block?.push(await perId('from_block()'));
    times.cached?.push(await perId('from_cached_block()'));
  }
  const median = (/** @type {number[]} */ values) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const bare = median(times.bare ?? []);
  const ratio = (/** @type {string} */ name) => Math.round((median(times[name] ?? []) / bare) * 100) / 100;
  console.log(`bare nextval ${bare.toFixed(2)} µs (median of ${RUNS})`);
  console.log(
    JSON.stringify({
      plpgsql_nextval_ratio: ratio('wrapped'),
      block_fast_path_ratio: ratio('block'),
      block_cached_setting_ratio: ratio('cached'),
    }),
  );
} finally {
  await server.stop();
}
