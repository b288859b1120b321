import t from 'tap';
import {
  MAC_BYTES,
  NONCE_BYTES,
  challenge,
  clientMac,
  hello,
  macMatches,
  newNonce,
  parseChallenge,
  parseHello,
  parseWelcome,
  serverMac,
  welcome,
} from './handshake.js';

const serverNonce = newNonce();
const clientNonce = newNonce();

t.test('nonces are fresh 32-byte values', async (t) => {
  t.equal(serverNonce.length, NONCE_BYTES);
  t.not(serverNonce.toString('hex'), clientNonce.toString('hex'));
});

t.test('a dialer with the secret proves it; anything else does not', async (t) => {
  const h = hello('s3cret', serverNonce, clientNonce, 'n2');
  t.equal(h.mac.length, MAC_BYTES);
  t.ok(macMatches(clientMac('s3cret', serverNonce, clientNonce, 'n2'), h.mac), 'same inputs verify');
  t.notOk(macMatches(clientMac('other', serverNonce, clientNonce, 'n2'), h.mac), 'wrong secret');
  t.notOk(macMatches(clientMac('s3cret', newNonce(), clientNonce, 'n2'), h.mac), 'replayed against a new server nonce');
  t.notOk(macMatches(clientMac('s3cret', serverNonce, clientNonce, 'n3'), h.mac), 'claims another id');
  t.notOk(macMatches(clientMac('s3cret', serverNonce, clientNonce, 'n2'), h.mac.subarray(0, 16)), 'truncated mac');
});

t.test("a server's proof binds its id and cannot be mistaken for a dialer's", async (t) => {
  const w = welcome('s3cret', serverNonce, clientNonce, 'n1');
  t.ok(macMatches(serverMac('s3cret', serverNonce, clientNonce, 'n1'), w.mac));
  t.notOk(macMatches(serverMac('s3cret', serverNonce, clientNonce, 'n9'), w.mac), 'not the replica we dialed');
  t.notOk(macMatches(serverMac('s3cret', serverNonce, newNonce(), 'n1'), w.mac), 'replayed against a new client nonce');
  t.notOk(
    macMatches(clientMac('s3cret', serverNonce, clientNonce, 'n1'), w.mac),
    'role separation: the same inputs give different client and server macs',
  );
});

t.test('parsers accept well-formed messages only', async (t) => {
  t.ok(parseChallenge(challenge(serverNonce)));
  t.equal(parseChallenge({ type: 'challenge', version: 2, nonce: serverNonce }), undefined, 'unknown version');
  t.equal(parseChallenge({ type: 'challenge', version: 1, nonce: serverNonce.subarray(1) }), undefined, 'short nonce');
  t.ok(parseHello(hello('s', serverNonce, clientNonce, 'n1')));
  t.equal(parseHello({ type: 'hello', id: '', nonce: clientNonce, mac: Buffer.alloc(32) }), undefined, 'empty id');
  t.equal(parseHello({ type: 'hello', id: 'x'.repeat(300), nonce: clientNonce, mac: Buffer.alloc(32) }), undefined, 'huge id');
  t.equal(parseHello({ type: 'hello', id: 7, nonce: clientNonce, mac: Buffer.alloc(32) }), undefined, 'non-string id');
  t.equal(parseHello({ type: 'hello', id: 'n1', nonce: 'abc', mac: Buffer.alloc(32) }), undefined, 'string nonce');
  t.ok(parseWelcome(welcome('s', serverNonce, clientNonce, 'n1')));
  for (const junk of [null, undefined, 3, 'hello', [], [1, 2], { type: 'welcome' }, { type: 'welcome', mac: 'x' }]) {
    t.equal(parseChallenge(junk), undefined);
    t.equal(parseHello(junk), undefined);
    t.equal(parseWelcome(junk), undefined);
  }
});
