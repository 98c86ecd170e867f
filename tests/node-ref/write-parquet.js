// Writes rows (a JSON array of objects) as a Parquet file in The Stack's layout or CodeLm's, with parquetjs, a
// Parquet implementation independent of the one CodeLm reads with (Parquet.Net).
// Usage: node write-parquet.js stack|codelm|other rows.json out.parquet
const parquet = require('@dsnp/parquetjs');
const fs = require('fs');

const layouts = {
  // bigcode/the-stack's columns (a subset): the text, its language, where it came from and its licenses.
  stack: new parquet.ParquetSchema({
    content: { type: 'UTF8' },
    lang: { type: 'UTF8' },
    max_stars_repo_path: { type: 'UTF8' },
    max_stars_repo_name: { type: 'UTF8' },
    // A three-level LIST of strings, as pyarrow writes list<string> (The Stack's files are pyarrow's).
    max_stars_repo_licenses: { type: 'LIST', fields: { list: { repeated: true, fields: { element: { type: 'UTF8', optional: true } } } } },
    size: { type: 'INT64' },
  }),
  // Neither: what a user might point codelm at by mistake.
  other: new parquet.ParquetSchema({ text: { type: 'UTF8' }, name: { type: 'UTF8' } }),
  codelm: new parquet.ParquetSchema({
    repo: { type: 'UTF8' }, path: { type: 'UTF8' }, language: { type: 'UTF8' },
    license: { type: 'UTF8' }, sha: { type: 'UTF8' }, content: { type: 'UTF8' },
  }),
};

async function main() {
  const [layout, input, output] = process.argv.slice(2);
  // Data page v1, as pyarrow and the Hugging Face datasets write by default.
  const writer = await parquet.ParquetWriter.openFile(layouts[layout], output, { compression: 'GZIP', useDataPageV2: false });
  for (const row of JSON.parse(fs.readFileSync(input, 'utf8'))) {
    if (layout === 'stack') row.max_stars_repo_licenses = { list: row.max_stars_repo_licenses.map(element => ({ element })) };
    await writer.appendRow(row);
  }
  await writer.close();
}
main().catch(e => { console.error(e); process.exit(1); });
