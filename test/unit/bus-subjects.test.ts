/** Subjects of the live bus: token escaping (table-driven, both ways) and the subjects a hub uses. */
import { describe, expect, it } from 'vitest';
import { checkSubjectRoot, escapeToken, subjects, unescapeToken } from '../../server/bus/subjects.ts';

describe('escapeToken / unescapeToken', () => {
  it.each([
    ['plain id', 'GPU-5e3a9f00-1c2b', 'GPU-5e3a9f00-1c2b'],
    ['chip id with colon and underscore', 'i-0abc_neuron:3', 'i-0abc_neuron:3'],
    ['dotted host', 'ip-10-0-0-1.ec2.internal', 'ip-10-0-0-1%2Eec2%2Einternal'],
    ['star', 'a*b', 'a%2Ab'],
    ['greater-than', 'a>b', 'a%3Eb'],
    ['space', 'my host', 'my%20host'],
    ['tab and newline', 'a\tb\nc', 'a%09b%0Ac'],
    ['percent itself', '100%', '100%25'],
    ['already looks escaped', 'a%2Eb', 'a%252Eb'],
    ['empty', '', '%'],
    ['only dots', '..', '%2E%2E'],
    ['non-breaking space (two UTF-8 bytes)', 'a\u00a0b', 'a%C2%A0b'],
    ['other non-ASCII kept', 'hôte-ü', 'hôte-ü'],
    ['control character', 'a\u0001b', 'a%01b'],
  ])('%s', (_name, value, token) => {
    expect(escapeToken(value)).toBe(token);
    expect(unescapeToken(token)).toBe(value);
    // A token never holds what NATS gives a meaning to.
    expect(token).not.toMatch(/[.*>\s]/u);
    expect(token.length).toBeGreaterThan(0);
  });

  it.each([['%2'], ['a%zz'], ['%FF']])('refuses %s, which escapeToken cannot have made', (token) => {
    expect(() => unescapeToken(token)).toThrow();
  });
});

describe('subjects', () => {
  const s = subjects('fleetscope_test_x');
  it.each([
    ['samples', s.samples('nvidia', 'ip-10-0-0-1.ec2.internal', 'GPU-1'), 'fleetscope_test_x.samples.nvidia.ip-10-0-0-1%2Eec2%2Einternal.GPU-1'],
    ['one chip, any vendor and host', s.chipSamples('i-0a.neuron3'), 'fleetscope_test_x.samples.*.*.i-0a%2Eneuron3'],
    ['all samples', s.allSamples(), 'fleetscope_test_x.samples.>'],
    ['status', s.status('h 1', 'c1'), 'fleetscope_test_x.status.h%201.c1'],
    ['all status', s.allStatus(), 'fleetscope_test_x.status.>'],
    ['alerts', s.alerts('h1', 'c*'), 'fleetscope_test_x.alerts.h1.c%2A'],
    ['all alerts', s.allAlerts(), 'fleetscope_test_x.alerts.>'],
    ['summary', s.summary('box.lan-ab12cd'), 'fleetscope_test_x.summary.box%2Elan-ab12cd'],
    ['all summaries', s.allSummaries(), 'fleetscope_test_x.summary.*'],
    ['sync', s.sync(), 'fleetscope_test_x.sync'],
  ])('%s', (_name, subject, want) => {
    expect(subject).toBe(want);
  });

  it.each([
    ['fleetscope_test_x.summary.box%2Elan-ab12cd', 'box.lan-ab12cd'],
    ['fleetscope_test_x.summary.%', ''],
    ['fleetscope_test_x.status.h.c', null],
    ['fleetscope_test_x.summary.a.b', null],
    ['other.summary.a', null],
  ])('summaryHub(%s) = %s', (subject, hub) => {
    expect(s.summaryHub(subject)).toBe(hub);
  });

  it('defaults to the root fleetscope', () => {
    expect(subjects().sync()).toBe('fleetscope.sync');
  });

  it.each([['fleetscope'], ['fleetscope_test_ab12'], ['acme.prod-eu']])('root %s is fine', (root) => {
    expect(checkSubjectRoot(root)).toBe(root);
  });
  it.each([[''], ['a..b'], ['a.*'], ['a b'], ['a.>'], ['.a']])('root %j is refused with a clear error', (root) => {
    expect(() => checkSubjectRoot(root)).toThrow(/bus subject root must be tokens of letters, digits, _ and - separated by dots/);
  });
});
