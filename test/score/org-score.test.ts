import fc from 'fast-check';
import t from 'tap';
import { Directory } from '../../src/cohort/directory.js';
import { ScoreFacts, scoreTables } from '../../src/score/score-facts.js';
import { emptyFacts, SCORE_CATEGORIES, type PersonFacts } from '../../src/score/categories.js';
import { scoreRows } from '../../src/score/org-score.js';

function facts(people: Partial<PersonFacts>[]): ScoreFacts {
  const f = new ScoreFacts();
  people.forEach((p, i) => f.people.set(`p${i}@t.example`, { ...emptyFacts(), ...p }));
  return f;
}

const organisation = (f: ScoreFacts, kOrg = 2, kC = 2) => scoreRows(scoreTables(f, new Directory([]), [], kOrg, kC)).find((r) => r.dimension === 'organization')!;

t.test('each category on hand-built people: numerator, denominator and points as defined', async (t) => {
  const licensed = { hasExchange: true, hasTeams: true, hasYammer: true, hasOneDrive: true, hasSharePoint: true };
  const people: Partial<PersonFacts>[] = [
    // 4 communicate in two modes, 2 in one mode only, 2 not enabled for two modes (not counted)
    ...Array.from({ length: 4 }, () => ({ ...licensed, sentEmail: true, sentTeamsMessages: true, inMeetings: true, usedVideoOrScreenShare: true, workedWithFilesSharePoint: true, teamsPlatforms: 5 })),
    ...Array.from({ length: 2 }, () => ({ ...licensed, sentEmail: true, inMeetings: true, teamsPlatforms: 1 })),
    ...Array.from({ length: 2 }, () => ({ hasExchange: true, sentEmail: true, sentTeamsMessages: true })),
  ];
  const org = organisation(facts(people));
  const by = Object.fromEntries(org.categories.map((c) => [c.id, [c.numerator, c.denominator, c.points]]));
  t.same(by.communication, [4, 6, 66.7]);
  t.same(by.meetings, [4, 6, 66.7]);
  t.same(by.contentCollaboration, [4, 6, 66.7]);
  t.same(by.teamwork, [4, 8, 50]);
  t.same(by.mobility, [4, 8, 50]);
  t.same(org.total, { points: 300.1, max: 500, percentage: 60 });
  t.equal(SCORE_CATEGORIES.length, 5);
});

t.test('a category whose count is small or one-sided is suppressed, and the total covers only released ones', async (t) => {
  // G2 as now stated: "everyone qualifies" singles nobody out and is released (it was suppressed before);
  // a handful of people who do not qualify is not.
  const everyoneVideo = Array.from({ length: 12 }, () => ({ inMeetings: true, usedVideoOrScreenShare: true, hasExchange: true, teamsPlatforms: 3 }));
  const all = organisation(facts(everyoneVideo), 10, 5).categories.find((c) => c.id === 'meetings')!;
  t.same([all.suppressed, all.points, all.numerator, all.denominator], [false, 100, 12, 12], 'all 12 in meetings used video: released');
  const fewWithout = [...everyoneVideo, ...Array.from({ length: 3 }, () => ({ inMeetings: true, hasExchange: true, teamsPlatforms: 3 }))];
  const org = organisation(facts(fewWithout), 10, 5);
  const meetings = org.categories.find((c) => c.id === 'meetings')!;
  t.same([meetings.suppressed, meetings.points, meetings.numerator], [true, null, null], '3 of 15 in meetings without video: one-sided (G2), suppressed');
  t.equal(org.total.max, 100 * org.categories.filter((c) => !c.suppressed).length);
});

t.test('G12: one person made extreme moves no category by more than one person in its ratio', async (t) => {
  const person = fc.record({
    hasExchange: fc.boolean(), hasTeams: fc.boolean(), hasYammer: fc.boolean(), hasOneDrive: fc.boolean(), hasSharePoint: fc.boolean(),
    sentEmail: fc.boolean(), sentTeamsMessages: fc.boolean(), postedInCommunities: fc.boolean(), inMeetings: fc.boolean(), usedVideoOrScreenShare: fc.boolean(),
    workedWithFilesOneDrive: fc.boolean(), workedWithFilesSharePoint: fc.boolean(), sharedFiles: fc.boolean(), postedInChannels: fc.boolean(), teamsPlatforms: fc.nat(7),
  });
  fc.assert(
    fc.property(fc.array(person, { minLength: 30, maxLength: 80 }), fc.nat(), (people, which) => {
      const extreme: PersonFacts = { ...emptyFacts(), hasExchange: true, hasTeams: true, hasYammer: true, hasOneDrive: true, hasSharePoint: true, sentEmail: true, sentTeamsMessages: true, postedInCommunities: true, inMeetings: true, usedVideoOrScreenShare: true, workedWithFilesOneDrive: true, workedWithFilesSharePoint: true, sharedFiles: true, postedInChannels: true, teamsPlatforms: 7 };
      const before = scoreTables(facts(people), new Directory([]), [], 2, 1);
      const changed = [...people];
      changed[which % people.length] = extreme;
      const after = scoreTables(facts(changed), new Directory([]), [], 2, 1);
      return before.every((b, i) => {
        const x = b.table.cells[0]!;
        const y = after[i]!.table.cells[0]!;
        return Math.abs(x.active - y.active) <= 1 && Math.abs(x.users - y.users) <= 1;
      });
    }),
    { numRuns: 100 },
  );
});
