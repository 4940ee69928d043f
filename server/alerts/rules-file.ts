/**
 * The rules file (`fleetscope hub --rules FILE`): YAML or JSON (a `.json` file is read as JSON,
 * anything else as YAML, of which JSON is a subset), `{ builtins: { <id>: override }, rules: [] }`
 * (schema/alert-rules.ts), and `receivers: []` for the notifier (checked by it:
 * Notifier.setFileReceivers). Every error says the file and the field: `rules.yaml: rules[2].for:
 * invalid duration "1x"`, or the line and column of a syntax error.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { formatIssues, rulesFileSchema, type RulesFile } from '../../schema/alert-rules.ts';
import type { AlertEngine, RulesFileChange } from './alert-engine.ts';
import type { Checked } from './rule-set.ts';

/** Largest rules file read. */
export const MAX_RULES_FILE_BYTES = 4 * 1024 * 1024;

/** A rules file as read: the rules part checked, the receivers as written (the notifier checks them). */
export interface LoadedRulesFile {
  rules: RulesFile;
  receivers: unknown[];
}

/** A rules file that cannot be used at start (the hub command exits with status 2). */
export class RulesFileError extends Error {}

/** The text of a rules file, parsed and checked (`name` prefixes the errors). */
export function parseRulesText(text: string, name: string, json = false): Checked<LoadedRulesFile> {
  let data: unknown;
  if (json) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      return { ok: false, errors: [`${name}: not valid JSON: ${(err as Error).message}`] };
    }
  } else {
    const doc = parseDocument(text, { prettyErrors: false });
    if (doc.errors.length > 0) {
      return {
        ok: false,
        errors: doc.errors.slice(0, 5).map((e) => {
          const at = e.linePos?.[0];
          return `${name}:${at ? `${at.line}:${at.col}:` : ''} ${e.message.split('\n')[0]}`;
        }),
      };
    }
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  }
  let receivers: unknown[] = [];
  if (typeof data === 'object' && data !== null && !Array.isArray(data) && Object.hasOwn(data, 'receivers')) {
    const { receivers: given, ...rest } = data as Record<string, unknown>;
    if (!Array.isArray(given)) return { ok: false, errors: [`${name}: receivers: must be a list of receivers`] };
    receivers = given;
    data = rest;
  }
  const r = rulesFileSchema.safeParse(data);
  return r.success ? { ok: true, value: { rules: r.data, receivers } } : { ok: false, errors: formatIssues(r.error).map((e) => `${name}: ${e}`) };
}

/** Read and check the rules file at `path`. */
export function readRulesFile(path: string): Checked<LoadedRulesFile> {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_RULES_FILE_BYTES) return { ok: false, errors: [`${path}: ${size} bytes; a rules file may have at most ${MAX_RULES_FILE_BYTES}`] };
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`cannot read rules file ${path}: ${(err as Error).message}`] };
  }
  return parseRulesText(text, path, /\.json$/i.test(path));
}

/** Read the rules file at start: a bad one throws RulesFileError naming the file and the field. */
export function loadRulesFileAtStart(path: string): LoadedRulesFile {
  const r = readRulesFile(path);
  if (!r.ok) throw new RulesFileError(`--rules: ${r.errors.join('; ')}`);
  return r.value;
}

/** Who takes the file's `receivers` (the notifier): it checks them all, and throws naming the field without changing anything. */
export interface FileReceiverSink {
  setFileReceivers(receivers: readonly unknown[]): void;
}

/**
 * Put a read rules file in force on a running hub (reload): its rules are checked with the API's
 * first, then its receivers handed over, then its rules applied. A refusal changes nothing.
 */
export function applyRulesFile(path: string, loaded: LoadedRulesFile, engine: Pick<AlertEngine, 'checkRulesFile' | 'setRulesFile'>, receivers: FileReceiverSink): RulesFileChange {
  const check = engine.checkRulesFile(loaded.rules);
  if (!check.ok) return { ok: false, errors: check.errors.map((e) => `${path}: ${e}`) };
  try {
    receivers.setFileReceivers(loaded.receivers);
  } catch (err) {
    return { ok: false, errors: [`${path}: ${(err as Error).message}`] };
  }
  return engine.setRulesFile(loaded.rules);
}
