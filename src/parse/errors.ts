import { ProcError } from '../source/errors.js';

/** A file's text did not have the shape its man page promises. */
export class ParseError extends ProcError {
  readonly line: number | undefined;
  readonly text: string | undefined;

  constructor(path: string, detail: string, line?: number, text?: string) {
    const where = line === undefined ? path : `line ${line} of ${path}`;
    super('PARSE', path, `cannot parse ${where}: ${detail}`);
    this.name = 'ParseError';
    this.line = line;
    this.text = text;
  }
}
