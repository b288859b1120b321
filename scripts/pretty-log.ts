import pinoPretty from 'pino-pretty';

/** Turns a replica's JSON log line into one readable line, prefixed by the replica id. */
export function makePrettyPrinter(colorize: boolean): (id: string, line: string) => string {
  const prettify = pinoPretty.prettyFactory({
    colorize,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,id,protocol',
    singleLine: true,
  });
  return (id, line) => {
    try {
      return `[${id}] ${prettify(JSON.parse(line)).trimEnd()}`;
    } catch {
      return `[${id}] ${line}`;
    }
  };
}
