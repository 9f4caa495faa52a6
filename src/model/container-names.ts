/**
 * Container names without a daemon: what each runtime leaves on disk, read beforehand by
 * src/inspect/names.ts, turned here (pure) into names, images, pods and projects.
 *
 * Sources, by precedence:
 *  - docker's /var/lib/docker/containers/<id>/config.v2.json: `Name`, `Config.Image`,
 *    `Config.Labels` (compose project/service; dockershim's io.kubernetes.* labels)
 *  - the OCI bundle's config.json annotations (the bundle is the cwd of the container's shim or
 *    monitor): containerd CRI `io.kubernetes.cri.*`, CRI-O `io.kubernetes.container.name` /
 *    `io.kubernetes.pod.*`, podman `io.container.manager`, hostscope `org.hostscope.name` / `.image`
 *  - conmon's `-n NAME` (podman passes the container's name to its monitor)
 *  - nerdctl's name store (/var/lib/nerdctl/<hash>/names/<namespace>/<name> holds the id)
 *  - the cgroup path (systemd-nspawn machine-NAME.scope, lxc names; src/model/cgroup-names.ts)
 *  - the UTS hostname read inside the container's uts namespace, then HOSTNAME from its environ
 */
import type { Container } from './containers.js';

/** What was read for one container (texts, not yet parsed: parsing is here). */
export interface NameFiles {
  /** docker config.v2.json: its path (for notes) and text */
  docker?: { path: string; text: string };
  /** the OCI bundle's config.json */
  oci?: { path: string; text: string };
  /** the shim/monitor's command line (conmon -n NAME, containerd-shim -namespace NS) */
  monitorArgs?: string[];
  /** the name nerdctl's name store gives this id */
  nerdctlName?: string;
  /** the hostname read in the container's uts namespace (live only) */
  utsHostname?: string;
}

export interface ContainerNaming {
  name?: string;
  image?: string;
  pod?: string;
  podNamespace?: string;
  project?: string;
  service?: string;
  labels?: Record<string, string>;
  /** where the name came from: docker-config, oci-annotations, conmon, nerdctl, uts-hostname */
  nameSource?: string;
}

const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** A name, label or image string worth keeping: a string, not empty, at most 1 KiB (rendering escapes it). */
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v.length <= 1024 ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** string→string entries of a JSON object (labels, annotations), others dropped; at most 512 */
function stringMap(v: unknown): Record<string, string> | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let n = 0;
  for (const [k, val] of Object.entries(o)) {
    if (n >= 512) break;
    if (k.length <= 256 && typeof val === 'string' && val.length <= 4096) {
      out[k] = val;
      n++;
    }
  }
  return out;
}

function parseJson(file: { path: string; text: string }, notes: string[]): Record<string, unknown> | undefined {
  try {
    const v = obj(JSON.parse(file.text));
    if (!v) notes.push(`${file.path}: not a JSON object: ignored`);
    return v;
  } catch (e) {
    notes.push(`${file.path}: invalid JSON (${(e as Error).message.slice(0, 120)}): ignored`);
    return undefined;
  }
}

/** What docker's config.v2.json says. */
export function fromDockerConfig(file: { path: string; text: string }, notes: string[]): ContainerNaming {
  const j = parseJson(file, notes);
  if (!j) return {};
  const config = obj(j.Config);
  const labels = stringMap(config?.Labels) ?? {};
  const rawName = str(j.Name);
  const out: ContainerNaming = {};
  const k8sName = labels['io.kubernetes.container.name'];
  if (k8sName) {
    out.name = k8sName;
    out.nameSource = 'docker-config';
  } else if (rawName) {
    out.name = rawName.replace(/^\//, '');
    out.nameSource = 'docker-config';
  }
  const image = str(config?.Image);
  if (image) out.image = image;
  if (labels['io.kubernetes.pod.name']) out.pod = labels['io.kubernetes.pod.name'];
  if (labels['io.kubernetes.pod.namespace']) out.podNamespace = labels['io.kubernetes.pod.namespace'];
  if (labels['com.docker.compose.project']) out.project = labels['com.docker.compose.project'];
  if (labels['com.docker.compose.service']) out.service = labels['com.docker.compose.service'];
  if (Object.keys(labels).length > 0) out.labels = labels;
  return out;
}

/** What an OCI bundle's config.json annotations say (containerd CRI, CRI-O, podman, hostscope). */
export function fromOciConfig(file: { path: string; text: string }, notes: string[]): ContainerNaming {
  const j = parseJson(file, notes);
  if (!j) return {};
  const a = stringMap(j.annotations) ?? {};
  const out: ContainerNaming = {};
  const pick = (...keys: string[]): string | undefined => keys.map((k) => str(a[k])).find((v) => v !== undefined);
  const sandbox = a['io.kubernetes.cri.container-type'] === 'sandbox' || a['io.kubernetes.cri-o.ContainerType'] === 'sandbox';
  const name = pick('org.hostscope.name', 'io.kubernetes.cri.container-name', 'io.kubernetes.container.name', 'nerdctl/name');
  const pod = pick('io.kubernetes.cri.sandbox-name', 'io.kubernetes.pod.name');
  if (name) out.name = name;
  else if (sandbox && pod) out.name = `${pod} (sandbox)`;
  if (out.name) out.nameSource = 'oci-annotations';
  const image = pick('org.hostscope.image', 'io.kubernetes.cri.image-name', 'io.kubernetes.cri-o.ImageName', 'org.opencontainers.image.ref.name');
  if (image) out.image = image;
  if (pod) out.pod = pod;
  const ns = pick('io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.pod.namespace');
  if (ns) out.podNamespace = ns;
  const project = pick('com.docker.compose.project', 'io.podman.compose.project');
  if (project) out.project = project;
  if (Object.keys(a).length > 0) out.labels = a;
  return out;
}

/** conmon's `-n NAME` / `--name NAME` / `--name=NAME` (podman names its monitor's container so). */
export function fromMonitorArgs(argv: string[]): ContainerNaming {
  const prog = argv[0]?.split('/').pop();
  if (prog !== 'conmon') return {};
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-n' || a === '--name') && str(argv[i + 1])) return { name: argv[i + 1]!, nameSource: 'conmon' };
    if (a.startsWith('--name=') && str(a.slice(7))) return { name: a.slice(7), nameSource: 'conmon' };
  }
  return {};
}

/** Everything the files say of one container, earlier sources first. */
export function namingFromFiles(f: NameFiles, notes: string[]): ContainerNaming {
  const parts: ContainerNaming[] = [];
  const where = f.docker?.path ?? f.oci?.path ?? 'the monitor';
  if (f.docker) parts.push(fromDockerConfig(f.docker, notes));
  if (f.oci) parts.push(fromOciConfig(f.oci, notes));
  if (f.monitorArgs) parts.push(fromMonitorArgs(f.monitorArgs));
  if (f.nerdctlName) parts.push({ name: f.nerdctlName, nameSource: 'nerdctl' });
  const out: ContainerNaming = {};
  for (const p of parts) {
    for (const k of ['name', 'image', 'pod', 'podNamespace', 'project', 'service', 'labels'] as const) {
      if (out[k] === undefined && p[k] !== undefined) (out as Record<string, unknown>)[k] = p[k];
    }
    if (out.nameSource === undefined && p.name !== undefined) out.nameSource = p.nameSource;
  }
  // no runtime lets a name, image or pod hold control characters: such a value is hostile, not a name
  for (const k of ['name', 'image', 'pod', 'podNamespace', 'project', 'service'] as const) {
    const v = out[k];
    if (v !== undefined && CONTROL.test(v)) {
      notes.push(`${where}: ${k === 'podNamespace' ? 'pod namespace' : k} ${JSON.stringify(v)} holds control characters: ignored`);
      delete out[k];
      if (k === 'name') delete out.nameSource;
    }
  }
  return out;
}

/**
 * The containers with what their files say: name, image, pod, project. A container with no file
 * name keeps its cgroup name (nspawn, lxc) or takes its UTS hostname, then its HOSTNAME; the pod
 * uid from the cgroup path stays in podUid. Returns new objects.
 */
export function applyNames(containers: Container[], files: ReadonlyMap<string, NameFiles>, notes: string[]): Container[] {
  return groupPods(nameEach(containers, files, notes));
}

/**
 * A pod's containers are one pod even when only some of them say so: a container whose cgroup
 * names the pod uid another's annotations name, or that shares the network namespace of a named
 * pod's sandbox (the pause container), takes that pod's name and namespace.
 */
function groupPods(containers: Container[]): Container[] {
  const byUid = new Map<string, Container>();
  const byNet = new Map<number, Container>();
  for (const c of containers) {
    if (c.podUid !== undefined && c.podNamespace !== undefined) byUid.set(c.podUid, c);
    const net = c.namespaces.net;
    if (c.pod !== undefined && c.podNamespace !== undefined && net && !c.sharedWithHost.includes('net')) byNet.set(net.inode, c);
  }
  return containers.map((c) => {
    if (c.podNamespace !== undefined) return c;
    const net = c.namespaces.net;
    const from = (c.pod !== undefined ? byUid.get(c.pod) : undefined) ?? (net && !c.sharedWithHost.includes('net') ? byNet.get(net.inode) : undefined);
    if (!from || from === c) return c;
    return { ...c, pod: from.pod, podNamespace: from.podNamespace, ...(from.podUid !== undefined ? { podUid: from.podUid } : {}) };
  });
}

function nameEach(containers: Container[], files: ReadonlyMap<string, NameFiles>, notes: string[]): Container[] {
  return containers.map((c) => {
    const f = files.get(c.key);
    if (!f) return c;
    const n = namingFromFiles(f, notes);
    const out: Container = { ...c };
    // a runtime name from a file beats the short id; nspawn/lxc cgroup names are already names
    const idNamed = c.id !== undefined && c.name === (c.id.length === 64 ? c.id.slice(0, 12) : c.id);
    if (n.name !== undefined && (idNamed || c.runtime === 'unknown' || c.runtime === 'hostscope')) {
      out.name = n.name;
      out.nameSource = n.nameSource;
    } else if (n.name === undefined && c.runtime === 'unknown' && f.utsHostname !== undefined && f.utsHostname !== '') {
      out.name = f.utsHostname;
      out.hostname = f.utsHostname;
      out.nameSource = 'uts-hostname';
    }
    if (n.image !== undefined) out.image = n.image;
    if (n.pod !== undefined) {
      if (c.pod !== undefined) out.podUid = c.pod;
      out.pod = n.pod;
    }
    if (n.podNamespace !== undefined) out.podNamespace = n.podNamespace;
    if (n.project !== undefined) out.project = n.project;
    if (n.service !== undefined) out.service = n.service;
    if (n.labels !== undefined) out.labels = n.labels;
    return out;
  });
}

/**
 * Does a container belong to the pod or project `spec` names: a pod's NAME, NAMESPACE/NAME or uid
 * (as the cgroup path has it), or compose:PROJECT (or a project's bare name).
 */
export function podMatches(c: Container, spec: string): boolean {
  if (spec.startsWith('compose:')) return c.project === spec.slice(8);
  if (c.pod !== undefined) {
    if (spec === c.pod || spec === c.podUid) return true;
    if (c.podNamespace !== undefined && spec === `${c.podNamespace}/${c.pod}`) return true;
  }
  return c.project !== undefined && spec === c.project;
}
