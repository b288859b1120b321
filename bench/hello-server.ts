/**
 * The `hello` baseline: a fastify hello-world in its own process, answering {"hello":"world"}
 * to every method and path: the ceiling for any HTTP service in Node on this machine. Prints
 * {"port": N} once listening; exits when its parent closes stdin (or dies).
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.all('*', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
