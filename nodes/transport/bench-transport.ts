/**
 * Micro-benchmark (not a test): one transport pushes small Raft-like messages to another over
 * loopback, both in this process, and prints messages per second.
 *
 *   node --import tsx nodes/transport/bench-transport.ts [messages] [payloadBytes]
 *
 * The sender keeps its queue below the bound instead of letting sends fail, so every message is
 * delivered and the number measures throughput, not drops. Sender and receiver share one thread,
 * so this is a lower bound for two separate replica processes.
 */
import pino from 'pino';
import { TcpTransport } from './tcp-transport.js';

const total = Number(process.argv[2] ?? 200_000);
const payloadBytes = Number(process.argv[3] ?? 0);
const burst = 1000;

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const make = (id: string) =>
    new TcpTransport({ id, listen: { host: '127.0.0.1', port: 0 }, peers: {}, secret: 'bench', logger });
  const sender = make('n1');
  const receiver = make('n2');
  await sender.start();
  await receiver.start();
  sender.addPeer('n2', receiver.address());
  receiver.addPeer('n1', sender.address());

  let received = 0;
  let outOfOrder = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  receiver.onMessage((_from, message) => {
    if ((message as { prevLogIndex: number }).prevLogIndex !== received) outOfOrder += 1;
    received += 1;
    if (received === total) done();
  });

  const data = payloadBytes > 0 ? new Uint8Array(payloadBytes).fill(7) : undefined;
  const message = (i: number) => ({
    type: 'AppendEntries',
    term: 7,
    leaderId: 'n1',
    prevLogIndex: i,
    prevLogTerm: 7,
    entries: data === undefined ? [] : [{ index: i + 1, term: 7, kind: 'command', data }],
    leaderCommit: i,
  });

  // Wait for the connection so the handshake is not part of the measurement.
  while (sender.stats().peers['n2']?.connected !== true) await new Promise((resolve) => setTimeout(resolve, 5));

  const start = process.hrtime.bigint();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      const room = 10_000 - (sender.stats().peers['n2']?.queuedMessages ?? 0);
      const n = Math.min(burst, room, total - sent);
      for (let k = 0; k < n; k++) if (sender.send('n2', message(sent + k)) === false) throw new Error('dropped');
      sent += n;
      if (sent < total) setImmediate(pump);
      else resolve();
    };
    pump();
  });
  await finished;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const s = sender.stats().peers['n2'];
  const bytes = s?.bytesSent ?? 0;
  console.log(
    JSON.stringify({
      messages: total,
      payloadBytes,
      seconds: Number(seconds.toFixed(3)),
      messagesPerSecond: Math.round(total / seconds),
      megabytesPerSecond: Number((bytes / seconds / 1e6).toFixed(1)),
      bytesPerMessage: Number((bytes / total).toFixed(1)),
      dropped: s?.dropped,
      outOfOrder,
    }),
  );
  await sender.close();
  await receiver.close();
}

await main();
