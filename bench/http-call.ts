/**
 * One HTTP request over a keep-alive pool, resolving to the status code. Used for the preload
 * and the failover loop instead of fetch, whose request body goes out in a second TCP segment
 * that can wait for a delayed ACK (40 ms on Linux) and would show up as fake latency.
 */
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

export function httpCall(baseUrl: string, method: string, path: string, body: string | null, timeoutMs: number): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const payload = body === null ? null : Buffer.from(body);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        timeout: timeoutMs,
        headers: payload === null ? {} : { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload ?? undefined);
  });
}
