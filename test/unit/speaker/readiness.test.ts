import t from 'tap';
import { readiness } from '../../../src/speaker/services.js';

t.test('a speaker is ready once its loop runs and XDP is attached', async (t) => {
  const view = (ready: boolean, attached: Array<[string, string]>) => ({
    isReady: () => ready,
    interfaces: () => new Map(attached),
  });
  t.match(readiness(view(false, [['eth0', 'native']])), { ready: false, detail: /not started/ });
  t.match(readiness(view(true, [])), { ready: false, detail: /not attached/ });
  t.same(
    readiness(
      view(true, [
        ['eth0', 'native'],
        ['eth1', 'generic'],
      ]),
    ),
    {
      ready: true,
      detail: 'ready: XDP on eth0 (native), eth1 (generic)',
    },
  );
});
