import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The front-end: the files of one flat folder, served as they are (no build step). Only names
 * listed at start are served, so no path can leave the folder.
 */
export async function registerStaticFiles(app: FastifyInstance, dir: string): Promise<void> {
  const files = new Set((await readdir(dir)).filter((f) => types[extname(f)] !== undefined));
  const send = async (name: string, reply: import('fastify').FastifyReply) => {
    if (!files.has(name)) return reply.code(404).send({ error: `no file ${name}` });
    const body = await readFile(join(dir, name));
    return reply.header('content-type', types[extname(name)]!).header('cache-control', 'no-cache').send(body);
  };
  app.get('/', (_request, reply) => send('index.html', reply));
  app.get<{ Params: { file: string } }>('/static/:file', (request, reply) => send(request.params.file, reply));
}
