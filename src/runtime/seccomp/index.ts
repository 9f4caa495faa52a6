export { compileSeccomp, planSeccomp, SeccompError, SECCOMP_RET, SECCOMP_FILTER_FLAGS, AUDIT_ARCH } from './compile.js';
export type { CompiledSeccomp, LinuxSeccomp, SeccompAction, SeccompArch, SeccompArg, SeccompOp, SeccompSyscall } from './compile.js';
export { dockerDefaultProfile, type DockerArch, type DockerProfileOptions } from './docker-default.js';
