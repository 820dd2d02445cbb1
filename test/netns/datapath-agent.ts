/**
 * One-shot helper run inside a test namespace (`nsenter --net=...`, so /sys/fs/bpf stays visible):
 * XDP attachments are made through the caller's network namespace, which a Node test process cannot
 * switch. Attachments outlive this process; maps are shared with the test through the pins.
 *
 *   attach <pinDir> <ifname> <native|generic>   open (or reuse) the pinned responder, attach or replace
 *   pass <ifname>                               attach the trivial herald_pass program in native mode
 *   detach <ifname>                             detach whatever XDP program is attached
 *   object <obj> <prog> <pinDir> <ifname> <native|generic>   load another object (maps pinned in pinDir)
 *                                               and attach its program `prog` (bench/arp's sink)
 * Prints one JSON line: { mode, progId } or { detached }.
 */
import { join } from 'node:path';
import { BpfObject } from '../../src/datapath/bpf.js';
import { XdpResponder } from '../../src/datapath/responder.js';
import { attachXdp, detachXdp, queryXdp, type XdpMode } from '../../src/datapath/xdp.js';
import { PASS_PROGRAM_NAME } from '../../src/datapath/xdp-layout.js';
import { nativeBuildDir } from '../../src/util/paths.js';

const [cmd, ...args] = process.argv.slice(2);

if (cmd === 'attach') {
  const [pinDir = '', ifname = '', mode = 'auto'] = args;
  const r = XdpResponder.open({ pinDir });
  const used = r.attach(ifname, mode as XdpMode);
  await r.groupsSettled();
  console.log(JSON.stringify({ mode: used, progId: r.program.id }));
  r.close();
} else if (cmd === 'pass') {
  const [ifname = ''] = args;
  const obj = BpfObject.load(join(nativeBuildDir(), 'herald_xdp.bpf.o'));
  const mode = attachXdp(ifname, obj.program(PASS_PROGRAM_NAME), { mode: 'native' });
  console.log(JSON.stringify({ mode, progId: queryXdp(ifname)?.progId }));
  obj.close();
} else if (cmd === 'object') {
  const [path = '', prog = '', pinDir = '', ifname = '', mode = 'native'] = args;
  const obj = BpfObject.load(path, { pinDir });
  const used = attachXdp(ifname, obj.program(prog), { mode: mode as XdpMode });
  console.log(JSON.stringify({ mode: used, progId: queryXdp(ifname)?.progId }));
  obj.close();
} else if (cmd === 'detach') {
  const [ifname = ''] = args;
  console.log(JSON.stringify({ detached: detachXdp(ifname) }));
} else {
  console.error(`usage: datapath-agent attach|pass|object|detach ...`);
  process.exit(2);
}
