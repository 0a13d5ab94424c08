import { buildEchelonSchema, SCHEMA_FILE } from './schema.js';

await buildEchelonSchema({ emit: true });
console.log(`wrote ${SCHEMA_FILE}`);
