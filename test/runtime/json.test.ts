import { describe, expect, it } from 'vitest';
import { parseJson, JsonError } from '../../src/runtime/json.js';

describe('parseJson (hostile config.json)', () => {
  it('reads what JSON.parse reads', () => {
    const t = '{"a":[1,-2.5,1e3,true,false,null,"x\\u0041\\n"],"b":{}}';
    expect(JSON.stringify(parseJson(t))).toBe(JSON.stringify(JSON.parse(t)));
  });
  it('objects have no prototype and __proto__ is refused (prototype pollution)', () => {
    const o = parseJson('{"constructor":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(null);
    expect(() => parseJson('{"a":{"__proto__":{"polluted":1}}}')).toThrow(/"__proto__" refused/);
  });
  it('duplicate keys are refused, not last-wins', () => {
    expect(() => parseJson('{"readonly":true,"readonly":false}')).toThrow(/duplicate key "readonly"/);
  });
  it('integers beyond 2^53 come back exact as bigint, never rounded', () => {
    expect(parseJson('18446744073709551615')).toBe(18446744073709551615n);
    expect(parseJson('9007199254740993')).toBe(9007199254740993n);
    expect(parseJson('9007199254740991')).toBe(9007199254740991);
    expect(() => parseJson('1e400')).toThrow(/out of range/);
    expect(() => parseJson('9.007199254740993e15')).toThrow(/beyond 2\^53/);
  });
  it('depth and size are capped', () => {
    expect(() => parseJson('['.repeat(100) + ']'.repeat(100))).toThrow(/nested deeper than 64/);
    expect(() => parseJson(`"${'x'.repeat(100)}"`, { maxSize: 50, maxDepth: 8 })).toThrow(/larger than 50/);
  });
  it('malformed input: one error with an offset', () => {
    for (const bad of ['', '{', '{"a":}', '[1,]', '{"a":1,}', '"\u0001"', 'tru', '{"a":1} x', '\ufeff{}', '01', '"\\x"']) {
      expect(() => parseJson(bad), JSON.stringify(bad)).toThrow(JsonError);
    }
  });
});
