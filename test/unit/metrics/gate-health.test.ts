import { Registry } from 'prom-client';
import t from 'tap';
import { registerGateHealth } from '../../../src/metrics/gate-health.js';

t.test('heartbeat age and longest gap read at scrape time; decision rounds by kind', async (t) => {
  const registry = new Registry();
  const reads = [
    { ageMs: 40, maxGapMs: 120 },
    { ageMs: 10, maxGapMs: 101 },
  ];
  const rounds = registerGateHealth(registry, () => reads.shift());
  rounds.round(30, true);
  rounds.round(2, false);
  rounds.round(3, false);
  const first = await registry.metrics();
  t.match(first, /^herald_gate_heartbeat_age_seconds 0\.04$/m);
  t.match(first, /^herald_gate_heartbeat_gap_max_seconds 0\.12$/m);
  t.match(first, /^herald_decision_round_seconds_count\{computed="true"\} 1$/m);
  t.match(first, /^herald_decision_round_seconds_count\{computed="false"\} 2$/m);
  t.match(first, /^herald_decision_round_seconds_bucket\{le="0\.05",computed="true"\} 1$/m);
  const second = await registry.metrics();
  t.match(second, /^herald_gate_heartbeat_gap_max_seconds 0\.101$/m, 'the gap since the previous scrape');
  const third = await registry.metrics();
  t.match(third, /^herald_gate_heartbeat_age_seconds 0\.01$/m, 'no heartbeat read: the last value stays');
});

t.test('gate closures counted by reason, every reason present from the start', async (t) => {
  const registry = new Registry();
  const gate = registerGateHealth(registry, () => undefined);
  t.match(await registry.metrics(), /^herald_gate_closures_total\{reason="fenced"\} 0$/m);
  gate.gateClosed('fenced');
  gate.gateClosed('stall');
  gate.gateClosed('fenced');
  const text = await registry.metrics();
  t.match(text, /^herald_gate_closures_total\{reason="fenced"\} 2$/m);
  t.match(text, /^herald_gate_closures_total\{reason="stall"\} 1$/m);
  t.match(text, /^herald_gate_closures_total\{reason="isolated"\} 0$/m);
});
