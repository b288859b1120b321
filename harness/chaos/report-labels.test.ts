/** How report.html names each fault period on its timeline (report.ts faultLabel). */
import t from 'tap';
import { faultLabel } from './report.js';

t.test('fault labels say what was done and by what', async (t) => {
  t.equal(faultLabel({ fault: 'partition', targets: ['n1'], detail: { shape: 'isolate', description: 'n1 | n2 n3', mode: 'refuse', by: 'proxy' } }), 'partition isolate n1 | n2 n3 (refuse)');
  t.equal(
    faultLabel({ fault: 'partition', targets: ['n1'], detail: { shape: 'isolate', description: 'n1 | n2 n3 (one-way: n1 hear no one cut off)', mode: 'blackhole', by: 'kernel' } }),
    'partition isolate n1 | n2 n3 (one-way: n1 hear no one cut off) by iptables',
  );
  t.equal(faultLabel({ fault: 'bandwidth', targets: ['n2'], detail: { bytesPerSec: 51200, by: 'tc tbf' } }), 'bandwidth 50 KiB/s n2 by tc tbf');
  t.equal(faultLabel({ fault: 'bandwidth', targets: ['n1', 'n2', 'n3'], detail: { bytesPerSec: 20480, by: 'proxy' } }), 'bandwidth 20 KiB/s n1,n2,n3');
  t.equal(faultLabel({ fault: 'power-loss-all', targets: ['n1', 'n2', 'n3'], detail: { wholeCluster: true } }), 'power failure: whole cluster');
  t.equal(faultLabel({ fault: 'kill', targets: ['n3'], detail: {} }), 'kill n3');
});
