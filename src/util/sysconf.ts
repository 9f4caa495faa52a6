/**
 * The kernel constants the parsers and the model convert with, from one place. Linux fixes
 * USER_HZ at 100 for every architecture's /proc ABI (stat's utime/stime, cgroup v1 cpuacct.stat);
 * the page size is 4096 on x86_64 and arm64 with 4k pages, the only ones hostscope supports.
 */
export const CLOCK_TICKS = 100;
export const PAGE_SIZE = 4096;
