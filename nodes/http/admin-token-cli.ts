/**
 * `npm run admin-token -- --cluster data/raft/cluster.json`: prints the header an admin call needs
 * (admin-auth.ts), for curl: `curl -H "$(npm run -s admin-token -- --cluster FILE)" ...`.
 */
import { parseArgs } from 'node:util';
import { readClusterFile } from '../config.js';
import { adminHeaders } from './admin-auth.js';

const { values } = parseArgs({ options: { cluster: { type: 'string' } } });
if (values.cluster === undefined) {
  console.error('usage: npm run admin-token -- --cluster FILE');
  process.exit(64);
}
const cluster = await readClusterFile(values.cluster);
console.log(`Authorization: ${adminHeaders(cluster.secret).authorization}`);
