import { describe, expect, it } from 'vitest';
import { chipOwnedMessage, decideHello, partitionChips, type ExistingAgent, type HelloDecision } from '../../server/ownership.ts';

const agent = (over: Partial<ExistingAgent> = {}): ExistingAgent => ({ tokenId: 'tok_a', pushAgent: false, connected: false, ...over });

describe('decideHello', () => {
  const cases: [string, ExistingAgent | null, string | null, HelloDecision['ok'], Partial<HelloDecision>][] = [
    ['a new id is bound to the token', null, 'tok_a', true, { bindTo: 'tok_a', replace: false }],
    ['a new id on an open hub is bound to null', null, null, true, { bindTo: null, replace: false }],
    ['its token again, not connected', agent(), 'tok_a', true, { bindTo: 'tok_a', replace: false }],
    ['its token again while connected: replaces the older connection', agent({ connected: true }), 'tok_a', true, { bindTo: 'tok_a', replace: true }],
    ['another token, not connected', agent(), 'tok_b', false, { code: 'agent_owned' }],
    ['another token while connected', agent({ connected: true }), 'tok_b', false, { code: 'agent_owned' }],
    ['no token (open hub) for an id bound to a token', agent(), null, false, { code: 'agent_owned' }],
    ['an id bound to null: anyone, and the first token claims it', agent({ tokenId: null }), 'tok_b', true, { bindTo: 'tok_b', replace: false }],
    ['an id bound to null on an open hub, connected: replaces', agent({ tokenId: null, connected: true }), null, true, { bindTo: null, replace: true }],
    ['its token was revoked: the next token claims the id (rotation)', agent({ tokenRevoked: true }), 'tok_b', true, { bindTo: 'tok_b', replace: false }],
    ['its token was revoked, old connection still open: replaced', agent({ tokenRevoked: true, connected: true }), 'tok_b', true, { bindTo: 'tok_b', replace: true }],
    ["a line-protocol host's id", agent({ tokenId: null, pushAgent: true }), null, false, { code: 'agent_owned' }],
  ];
  it.each(cases)('%s', (_name, existing, tokenId, ok, expected) => {
    const d = decideHello('agent-a', existing, tokenId);
    expect(d.ok).toBe(ok);
    expect(d).toMatchObject(expected);
    if (!d.ok) expect(d.message).toMatch(/^agent id "agent-a" /);
  });
});

describe('partitionChips', () => {
  const owners: Record<string, string> = { G1: 'agent-a', G2: 'agent-b', G3: 'lp-host' };
  const ownerOf = (id: string) => owners[id];
  const chips = ['G1', 'G2', 'G3', 'G4'].map((chipId) => ({ chipId }));

  it('keeps new chips and the agent own, and names the others with their owners', () => {
    expect(partitionChips('agent-a', chips, ownerOf)).toEqual({
      kept: [{ chipId: 'G1' }, { chipId: 'G4' }],
      foreign: [
        { chipId: 'G2', owner: 'agent-b' },
        { chipId: 'G3', owner: 'lp-host' },
      ],
    });
    expect(partitionChips('agent-z', [], ownerOf)).toEqual({ kept: [], foreign: [] });
    expect(partitionChips('agent-z', chips, () => undefined).foreign).toEqual([]);
  });
});

describe('chipOwnedMessage', () => {
  it('names each chip and its owner, and says how to move one', () => {
    expect(chipOwnedMessage([{ chipId: 'G2', owner: 'agent-b' }])).toBe(
      '1 chip belongs to another agent and was left out: G2 (agent agent-b); an admin can move a chip with: fleetscope chips reassign <chipId> --to <agentId>',
    );
    const many = Array.from({ length: 25 }, (_, i) => ({ chipId: `G${i}`, owner: 'agent-b' }));
    const m = chipOwnedMessage(many);
    expect(m).toMatch(/^25 chips belong to another agent and were left out: G0 \(agent agent-b\), .*G19 \(agent agent-b\) and 5 more;/);
    expect(m).not.toContain('G20');
  });
});
