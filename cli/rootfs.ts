/**
 * `hostscope rootfs busybox DIR` — a minimal rootfs from the host's busybox-static;
 * `hostscope rootfs unpack LAYOUT[:TAG] DIR` — an OCI image layout unpacked into DIR;
 * `hostscope rootfs cache` — make (once) and print the cached default busybox rootfs.
 * The work is in src/image/ (docs/images.md).
 */
import { CliError, EXIT_OK, UsageError, runHandler, type Deps } from './common.js';
import { HELP_OPTION, VERSION_OPTION, flag, helpText, lastString, parseOptions, versionLine, type OptionSpec } from './options.js';
import { isImageError } from '../src/image/errors.js';

const PROG = 'hostscope rootfs';

const OPTIONS: OptionSpec[] = [
  { long: 'busybox', arg: 'required', argName: '<path>', help: 'the busybox-static binary (default /bin/busybox)' },
  { long: 'hostname', arg: 'required', argName: '<name>', help: "the rootfs's /etc/hostname (default hostscope)" },
  { long: 'arch', arg: 'required', argName: '<arch>', help: 'architecture to pick from a multi-platform image (default the host\'s)' },
  HELP_OPTION,
  VERSION_OPTION,
];

export function rootfsHelp(): string {
  return helpText(
    [
      'hostscope rootfs busybox [--busybox PATH] [--hostname NAME] DIR   a minimal rootfs from busybox-static',
      'hostscope rootfs unpack [--arch ARCH] LAYOUT[:TAG|@DIGEST] DIR    unpack an OCI image layout',
      'hostscope rootfs cache                                           the cached default rootfs (made once)',
    ],
    OPTIONS,
    ['DIR must not exist or be empty; it appears whole or not at all.', 'Exit status: 0 ok; 1 failure or bad usage.'],
  );
}

export async function rootfsMain(argv: string[], deps: Deps): Promise<number> {
  return runHandler(PROG, deps, async () => {
    const r = parseOptions(argv, OPTIONS);
    if (!r.ok) throw new UsageError(r.message);
    if (flag(r.parsed, 'help')) {
      deps.stdout.write(rootfsHelp());
      return EXIT_OK;
    }
    if (flag(r.parsed, 'version')) {
      deps.stdout.write(versionLine(PROG));
      return EXIT_OK;
    }
    const [verb, ...ops] = r.parsed.operands;
    try {
      if (verb === 'busybox') {
        if (ops.length !== 1) throw new UsageError(ops.length === 0 ? 'busybox needs a target directory' : `unexpected argument '${ops[1]}'`);
        const { buildBusyboxRootfs } = await import('../src/image/busybox.js');
        const bb = lastString(r.parsed, 'busybox');
        const hn = lastString(r.parsed, 'hostname');
        const res = buildBusyboxRootfs(ops[0]!, { ...(bb !== undefined ? { busybox: bb } : {}), ...(hn !== undefined ? { hostname: hn } : {}) });
        deps.stdout.write(`${res.dir}: busybox rootfs, ${res.applets} applets (busybox sha256 ${res.busyboxSha256.slice(0, 16)})\n`);
        return EXIT_OK;
      }
      if (verb === 'cache') {
        if (ops.length !== 0) throw new UsageError(`unexpected argument '${ops[0]}'`);
        const { defaultBusyboxRootfs } = await import('../src/image/busybox.js');
        const bb = lastString(r.parsed, 'busybox');
        deps.stdout.write(`${defaultBusyboxRootfs(bb !== undefined ? { busybox: bb } : {}).dir}\n`);
        return EXIT_OK;
      }
      if (verb === 'unpack') {
        if (ops.length !== 2) throw new UsageError(ops.length < 2 ? 'unpack needs an image layout and a target directory' : `unexpected argument '${ops[2]}'`);
        const { parseOciImageRef, unpackImage } = await import('../src/image/oci.js');
        const { layout, ref } = parseOciImageRef(ops[0]!);
        const arch = lastString(r.parsed, 'arch');
        const res = await unpackImage(layout, ref, ops[1]!, arch !== undefined ? { architecture: arch } : {});
        const s = res.stats;
        deps.stdout.write(
          `${ops[1]}: ${res.manifestDigest}, ${res.layers} layers: ${s.files} files, ${s.dirs} dirs, ${s.symlinks} symlinks, ${s.hardlinks} hard links, ${s.whiteouts} whiteouts, ${s.opaqueDirs} opaque dirs; skipped ${s.skippedDevices} device nodes/FIFOs\n`,
        );
        return EXIT_OK;
      }
    } catch (e) {
      if (isImageError(e)) throw new CliError(e.message);
      throw e;
    }
    if (verb === undefined) throw new UsageError('no subcommand given (busybox, unpack or cache)');
    throw new UsageError(`unknown subcommand '${verb}'`);
  });
}
