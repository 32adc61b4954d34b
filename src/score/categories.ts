/**
 * The Adoption Score people-experience categories as this proxy can measure them from Graph's usage reports
 * (../shared/graph-reports.md section 4). Each category is a ratio of people: who is counted (denominator)
 * and who of them qualifies (numerator), over the same period. Where Graph's reports lack Microsoft's exact
 * measure, the definition says which proxy is used. Points = 100 x numerator / denominator.
 *
 * Activity: the facts follow Microsoft's definitions. Where a category names one action (Communication and
 * Teamwork count people *sending* e-mail, per the Adoption Score documentation), the fact is that action (Send
 * Count above 0), narrower than an active e-mail user in the cohorts (send, read or meeting actions); receiving
 * mail counts nowhere (graph-reports.md, "Active users").
 */

/** What the reports say about one person over the period; built in cohort/score-facts.ts from the rows. */
export interface PersonFacts {
  hasExchange: boolean;
  hasTeams: boolean;
  hasYammer: boolean;
  hasOneDrive: boolean;
  hasSharePoint: boolean;
  sentEmail: boolean;
  sentTeamsMessages: boolean;
  postedInCommunities: boolean;
  inMeetings: boolean;
  usedVideoOrScreenShare: boolean;
  workedWithFilesOneDrive: boolean;
  workedWithFilesSharePoint: boolean;
  sharedFiles: boolean;
  postedInChannels: boolean;
  /** Teams platform classes used: 1 desktop, 2 mobile, 4 web. */
  teamsPlatforms: number;
}

export interface ScoreCategory {
  readonly id: 'communication' | 'meetings' | 'contentCollaboration' | 'teamwork' | 'mobility';
  readonly title: string;
  readonly definition: string;
  readonly reports: readonly string[];
  counted(p: PersonFacts): boolean;
  qualifies(p: PersonFacts): boolean;
  /**
   * A column of the category's one report that every counted person has above 0 and no one else has: a released
   * sum of it (clipped at c per person) puts the count between sum / c and the sum. Absent: none.
   */
  readonly countedBy?: string;
  /**
   * Whether a column of that report is tied to the category's counts (its values nest with being counted or
   * qualifying, such as the meeting counts and the video and screen share durations): a released sum of such a
   * column, other than one sum of `countedBy`, bounds the counts in ways the link's check does not model.
   */
  readonly tiedTo?: (header: string) => boolean;
}

const bits = (n: number) => (n & 1) + ((n >> 1) & 1) + ((n >> 2) & 1);

export const SCORE_CATEGORIES: readonly ScoreCategory[] = [
  {
    id: 'communication',
    title: 'Communication',
    definition: 'People who used at least two of: sending e-mail, sending Teams chat or channel messages, posting in Viva Engage communities; out of people licensed for at least two of Exchange, Teams and Viva Engage. (Sending, as Microsoft counts it here: reading or receiving mail is not a mode of communication.)',
    reports: ['getOffice365ActiveUserDetail', 'getEmailActivityUserDetail', 'getTeamsUserActivityUserDetail', 'getYammerActivityUserDetail'],
    counted: (p) => Number(p.hasExchange) + Number(p.hasTeams) + Number(p.hasYammer) >= 2,
    qualifies: (p) => Number(p.hasExchange && p.sentEmail) + Number(p.hasTeams && p.sentTeamsMessages) + Number(p.hasYammer && p.postedInCommunities) >= 2,
  },
  {
    id: 'meetings',
    title: 'Meetings',
    definition: "People in Teams meetings who used video or screen sharing at all; out of people in Teams meetings. (Proxy: Graph's per-user reports have no per-meeting video or screen-share flag, so this counts people, not meetings.)",
    reports: ['getTeamsUserActivityUserDetail'],
    counted: (p) => p.inMeetings,
    qualifies: (p) => p.inMeetings && p.usedVideoOrScreenShare,
    countedBy: 'Meeting Count',
    tiedTo: (header) => /meeting|video|screen share|audio/i.test(header),
  },
  {
    id: 'contentCollaboration',
    title: 'Content collaboration',
    definition: "People who viewed, edited or shared a file in OneDrive or SharePoint; out of people licensed for OneDrive or SharePoint. (Graph's reports do not separate readers from creators, so both count.)",
    reports: ['getOffice365ActiveUserDetail', 'getOneDriveActivityUserDetail', 'getSharePointActivityUserDetail'],
    counted: (p) => p.hasOneDrive || p.hasSharePoint,
    qualifies: (p) => p.workedWithFilesOneDrive || p.workedWithFilesSharePoint || p.sharedFiles,
  },
  {
    id: 'teamwork',
    title: 'Teamwork',
    definition: "People who posted or replied in Teams channels or worked with files on SharePoint (team sites); out of people who sent e-mail or Teams messages or worked with files. (Proxy: group-mailbox e-mail is not in Graph's per-user reports.)",
    reports: ['getEmailActivityUserDetail', 'getTeamsUserActivityUserDetail', 'getOneDriveActivityUserDetail', 'getSharePointActivityUserDetail'],
    counted: (p) => p.sentEmail || p.sentTeamsMessages || p.workedWithFilesOneDrive || p.workedWithFilesSharePoint,
    qualifies: (p) => p.postedInChannels || p.workedWithFilesSharePoint,
  },
  {
    id: 'mobility',
    title: 'Mobility',
    definition: "People who used Teams on more than one kind of device (desktop, mobile, web); out of people licensed for Exchange or Teams. (Proxy: Teams device usage only; the Microsoft 365 apps report is not used yet.)",
    reports: ['getOffice365ActiveUserDetail', 'getTeamsDeviceUsageUserDetail'],
    counted: (p) => p.hasExchange || p.hasTeams,
    qualifies: (p) => bits(p.teamsPlatforms) >= 2,
  },
];

export const SCORE_REPORTS = [...new Set(SCORE_CATEGORIES.flatMap((c) => c.reports))].sort();

export function emptyFacts(): PersonFacts {
  return {
    hasExchange: false, hasTeams: false, hasYammer: false, hasOneDrive: false, hasSharePoint: false, sentEmail: false,
    sentTeamsMessages: false, postedInCommunities: false, inMeetings: false, usedVideoOrScreenShare: false,
    workedWithFilesOneDrive: false, workedWithFilesSharePoint: false, sharedFiles: false, postedInChannels: false, teamsPlatforms: 0,
  };
}
