/**
 * A look at a frame's JSON text before JSON.parse: the first object with more than `maxKeys`
 * keys. No object of the protocol has more than 64 (a sample's extras), but one object of 300,000
 * keys fits in a 4 MiB frame, and JSON.parse alone spends 130-170 ms building it (a dictionary).
 * One pass over the text, strings skipped; nothing is allocated unless such an object is found.
 * Says nothing about validity otherwise (JSON.parse and the schema judge that). Pure.
 */

const QUOTE = 0x22, BSLASH = 0x5c, LBRACE = 0x7b, RBRACE = 0x7d, LBRACK = 0x5b, RBRACK = 0x5d, COLON = 0x3a, COMMA = 0x2c;

/**
 * The path (`samples.3.extras`, `(frame)` for the frame itself) of the first object in `raw` with
 * more than `maxKeys` keys, or null when there is none (or the text ends first).
 */
export function firstObjectOverKeys(raw: string, maxKeys: number): string | null {
  // Per open object or array: whether it is an object, its keys (objects) or element index
  // (arrays), and where its current key is in the text.
  const isObj: boolean[] = [];
  const count: number[] = [];
  const keyAt: number[] = [];
  const keyEnd: number[] = [];
  let top = -1;
  let expectKey = false;
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      // The closing quote: the next one not escaped (preceded by an even run of backslashes).
      for (i = raw.indexOf('"', start); i >= 0; i = raw.indexOf('"', i + 1)) {
        let bs = 0;
        while (raw.charCodeAt(i - 1 - bs) === BSLASH) bs++;
        if ((bs & 1) === 0) break;
      }
      if (i < 0) return null; // unterminated: JSON.parse refuses it

      if (expectKey && top >= 0 && isObj[top]) {
        keyAt[top] = start;
        keyEnd[top] = i;
      }
      continue;
    }
    switch (c) {
      case LBRACE:
      case LBRACK:
        top++;
        isObj[top] = c === LBRACE;
        count[top] = 0;
        keyAt[top] = keyEnd[top] = -1;
        expectKey = c === LBRACE;
        break;
      case RBRACE:
      case RBRACK:
        if (top >= 0) top--;
        expectKey = false;
        break;
      case COLON:
        if (top >= 0 && isObj[top] && ++count[top] > maxKeys) return pathTo(raw, top, isObj, count, keyAt, keyEnd);
        expectKey = false;
        break;
      case COMMA:
        if (top >= 0) {
          if (isObj[top]) expectKey = true;
          else count[top]++;
        }
        break;
    }
  }
  return null;
}

function pathTo(raw: string, level: number, isObj: boolean[], count: number[], keyAt: number[], keyEnd: number[]): string {
  const parts: string[] = [];
  for (let l = 0; l < level; l++) parts.push(isObj[l] ? raw.slice(keyAt[l], keyEnd[l]) : String(count[l]));
  return parts.length ? parts.join('.') : '(frame)';
}
