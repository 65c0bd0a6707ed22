// duckdb_step.mjs MODULE_DIR IN OUT MODE — the same work in DuckDB
// (npm @duckdb/node-api), 2 threads, one COPY (SELECT ...) TO statement:
//   MODE=seed    the seed step (3 expressions, drop 3 columns), Spark's
//                semantics: x/0 -> NULL (DuckDB's '/' already gives NULL)
//   MODE=select  read-only: one column out
// DuckDB's fastest setup here: its own parallel CSV reader with its default
// type sniffing (a sample of rows; it finds the same types as a full scan on
// this data, and sample_size=-1 made it several times slower), header.
import { createRequire } from 'module';
const [moduleDir, inPath, outPath, mode] = process.argv.slice(2);
const require = createRequire(moduleDir + '/');
const { DuckDBInstance } = require('@duckdb/node-api');
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
const src = `read_csv('${inPath}', header=true)`;
let sql;
if (mode === 'select') {
  sql = `COPY (SELECT urllength FROM ${src}) TO '${outPath}' (HEADER, DELIMITER ',')`;
} else {
  sql = `COPY (SELECT * EXCLUDE (alexa_rank, pathlength, hassecureconnection),
      alexa_rank / 1000000 AS alexa_rank_scaled,
      pathlength / urllength AS pathlength_normalized,
      CASE WHEN hassecureconnection = 'yes' THEN 1 ELSE 0 END AS hassecureconnection_encoded
    FROM ${src}) TO '${outPath}' (HEADER, DELIMITER ',')`;
}
await con.run(sql);
