/**
 * The short soak (the bounded soak of bench/soak.ts, about 30 s): consumers without pause while Graph's
 * failure modes come and go, with the snapshot cache on and expiring every few seconds.
 */
import { createServer } from 'node:http';
import t from 'tap';
import { baselines, describeSoak, faultPhases, FaultSwitch, judge, leakedLines, runSoak, standardOperations } from '../helpers/load.js';
import { startStack } from '../helpers/proxy-stack.js';

const CONSUMERS = 8;

t.test('a 30-second soak with faults: no defect, no leak, failures only while a fault is on, memory flat', async (t) => {
  const foreign = createServer((_req, res) => res.end('foreign'));
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => foreign.close(() => resolve())));
  let leakedLogLines = 0;
  let logLines = 0;
  let firstLeak: string | undefined;
  let secrets = { markers: [] as string[], downloadUrl: '' };
  const stack = await startStack({
    simulator: { canary: true, users: 80 },
    proxy: { snapshotTtlSeconds: 2 },
    graph: { firstByteTimeoutMs: 800, maxRetries: 3, maxRetryWaitMs: 2_500 },
    logLevel: 'info',
    logSink: (line) => {
      logLines++;
      const leaked = leakedLines(line, secrets);
      leakedLogLines += leaked;
      if (leaked > 0) firstLeak ??= line;
    },
  });
  t.teardown(() => stack.close());
  const tenant = stack.sim.tenant;
  secrets = { markers: [tenant.canaryMarker!, tenant.tenantId.toLowerCase(), tenant.displayName.toLowerCase()], downloadUrl: stack.sim.downloadUrl };
  const operations = standardOperations();
  const expected = await baselines(stack, operations);
  const phases = faultPhases(stack.sim, 800, `http://127.0.0.1:${(foreign.address() as { port: number }).port}`);
  const graphBefore = { ...stack.proxy.graph.stats };
  const report = await runSoak({
    target: stack, operations, baselines: expected, secrets, consumers: CONSUMERS, switches: new FaultSwitch(stack.sim.graphUrl),
    phases, phaseMs: 1_500, warmUpMs: 3_000, durationMs: 27_000, leakedLogLines: () => leakedLogLines,
  });
  t.comment(describeSoak(report, CONSUMERS));
  const failed = Object.values(report.failures).reduce((a, b) => a + b, 0);
  t.same(report.defects, {}, 'no partial, altered or unshaped answer');
  t.equal(report.leakedLines, 0, 'no row of any answer carries an identifier');
  t.ok(logLines > report.requests, `the audit log was scanned (${logLines} lines)`);
  t.equal(report.leakedLogLines, 0, 'nor does any log line', { firstLeak });
  t.ok(report.phasesRun >= phases.length, 'every fault phase ran');
  t.ok(failed > 0 && report.ok > failed, `faults caused clean failures (${failed}), most answers were served (${report.ok})`);
  t.ok(report.requests >= 150, `the soak kept consumers busy (${report.requests} requests)`);
  const graph = stack.proxy.graph.stats;
  t.ok(graph.retries - graphBefore.retries <= 3 * (graph.calls - graphBefore.calls), 'Graph retries stayed within three per call');
  t.ok(report.rssEndBytes < report.rssStartBytes * 1.25, 'resident memory did not keep growing (the 10% target is measured by bench/soak.ts)');
  const after = await baselines(stack, operations);
  t.same(after.map((o, i) => judge(o, expected[i]!).kind), operations.map(() => 'ok'), 'after the soak, every answer is the fault-free one again');
});
