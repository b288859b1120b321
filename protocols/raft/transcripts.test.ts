/**
 * Runs the Raft transcripts (transcripts/testdata/*.txt, see transcripts/README.md): one subtest
 * per block, comparing what the command prints with the expected output below its `----`.
 *
 * REWRITE=1 npx tap protocols/raft/transcripts.test.ts rewrites the expected outputs in place
 * with what the core prints now, instead of comparing: then read the diff (git diff) carefully.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Interpreter, parseTranscript, renderTranscript } from './transcripts/interpreter.js';

const TESTDATA = fileURLToPath(new URL('./transcripts/testdata/', import.meta.url));
const REWRITE = process.env.REWRITE === '1';

for (const file of readdirSync(TESTDATA).filter((f) => f.endsWith('.txt')).sort()) {
  t.test(file, async (t) => {
    const path = join(TESTDATA, file);
    const transcript = parseTranscript(readFileSync(path, 'utf8'), file);
    // The blocks share one cluster, so they run in order; a command that throws fails the file.
    const interpreter = new Interpreter();
    const outputs = transcript.blocks.map((block) => {
      try {
        return interpreter.run(block.command);
      } catch (err) {
        throw new Error(`${file}:${block.line}: ${block.command}: ${(err as Error).message}`, { cause: err });
      }
    });
    if (REWRITE) {
      writeFileSync(path, renderTranscript(transcript, outputs));
      t.pass(`rewrote ${file}`);
      return;
    }
    transcript.blocks.forEach((block, k) => {
      t.test(`${file}:${block.line} ${block.command}`, async (t) => {
        t.equal((outputs[k] ?? []).join('\n'), block.expected.join('\n'), `${file}:${block.line}: output of "${block.command}"`);
      });
    });
  });
}
