// Reads a corpus Parquet file with DuckDB (its own C++ Parquet reader, independent of CodeLm's writer and of
// Parquet.Net) and prints {schema, rowGroups, rows} as JSON: the columns' physical and logical types, the row groups,
// and every row in file order.
// Usage: node read-parquet.js file.parquet
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const file = process.argv[2].replaceAll("'", "''");
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
  const schema = await rows(`select name, type, converted_type, logical_type, repetition_type from parquet_schema('${file}')`);
  const rowGroups = await rows(`select row_group_id, count(*) as columns, min(row_group_num_rows) as num_rows, min(compression) as codec
                                from parquet_metadata('${file}') group by row_group_id order by row_group_id`);
  const data = await rows(`select repo, path, language, license, sha, content from read_parquet('${file}') order by file_row_number`);
  process.stdout.write(JSON.stringify({ schema, rowGroups, rows: data }));
}

main().catch(e => { console.error(e.message); process.exit(1); });
