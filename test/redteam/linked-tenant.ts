/**
 * The tenant and answer shapes the linked-release red-team tests share (linked-directory-change, linked-pins-*):
 * DeptA (OfficeP) 20 people, 6 of them idle; DeptB (OfficeQ) 20, 5 idle; DeptC (OfficeR) 25, all active; 12 people
 * outside the directory, all active. Every active person was in meetings with video, so every Meetings cell is
 * everyone active: all cells pass k 10 and k_c 5, before and after one person moves.
 */
import type { Person, RandomTenant } from '../helpers/random-tenant.js';

const idle: Person = { idle: true, mail: true, files: true, mobile: false, video: false };
const onVideo: Person = { idle: false, mail: true, files: true, mobile: false, video: true };
const people = (inactive: number, active: number): Person[] => [...Array<Person>(inactive).fill(idle), ...Array<Person>(active).fill(onVideo)];

export const MOVER_TENANT: RandomTenant = {
  departments: 3,
  offices: 3,
  crosses: [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ people: i === 0 ? people(6, 14) : i === 4 ? people(5, 15) : i === 8 ? people(0, 25) : [], ghosts: 0 })),
  outsiders: people(0, 12),
  k: 10,
  kC: 5,
  kOrg: 10,
};

/** /cohorts JSON, as far as the tests read it. */
export type Cohorts = { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] };
/** /org-score JSON with `by`, as far as the tests read it. */
export type Score = { cohorts: { cohort: string[]; categories: { id: string; numerator: number | null; denominator: number | null }[] }[] };
