import type { ServerResponse } from 'node:http';

/**
 * Server-sent event streams to browsers (text/event-stream). A client that cannot keep up (its
 * socket buffer grows past a bound) misses updates rather than growing the server's memory; the
 * next snapshot brings it up to date, since every snapshot is complete.
 */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor(private readonly maxBufferedBytes = 4 * 1024 * 1024) {
    this.keepAlive = setInterval(() => this.comment('keep-alive'), 15_000);
    this.keepAlive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  add(res: ServerResponse, first: Array<{ event: string; data: unknown }>): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\n');
    for (const m of first) res.write(frame(m.event, m.data));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(event, data);
    for (const res of this.clients) {
      if (res.writableLength > this.maxBufferedBytes) continue;
      res.write(text);
    }
  }

  closeAll(): void {
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private comment(text: string): void {
    for (const res of this.clients) res.write(`: ${text}\n\n`);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
