import { join } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { DirectoryProcSource } from '../../src/source/source.js';
import type { Deps } from '../../cli/common.js';
import { openSource } from '../../src/source/source.js';

export const HOSTS_DIR = join(import.meta.dirname, '../../fixtures/hosts');
export const GOLDEN_DIR = join(import.meta.dirname, '../../fixtures/golden');
export const HOSTS = readdirSync(HOSTS_DIR).sort();

export interface Manifest {
  name: string;
  cgroupMode: string;
  nsfsDev: number;
  selfPid: number;
  madeByCapture?: number[];
}

export function fixtureSource(host: string): DirectoryProcSource {
  return new DirectoryProcSource({ procRoot: join(HOSTS_DIR, host, 'proc'), sysRoot: join(HOSTS_DIR, host, 'sys') });
}

export function manifest(host: string): Manifest {
  return JSON.parse(readFileSync(join(HOSTS_DIR, host, 'MANIFEST.json'), 'utf8')) as Manifest;
}

export function rootArgs(host: string): string[] {
  return ['--proc-root', join(HOSTS_DIR, host, 'proc'), '--sys-root', join(HOSTS_DIR, host, 'sys')];
}

/** Deps that capture output, for running a command's main in-process. */
export function captureDeps(opts: { columns?: number; euid?: number } = {}): Deps & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    columns: opts.columns,
    openSource,
    euid: opts.euid ?? 0,
    out: () => out,
    err: () => err,
  };
}
