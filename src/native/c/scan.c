/*
 * The host scan in C: list /proc and, per process, read what the list view and the container
 * grouping need (the ns links, the Uid/Gid lines of status, stat, the cgroup file), into one
 * array of doubles plus one byte table of strings. It runs on the libuv threadpool
 * (napi_create_async_work), so the event loop stays free while /proc is read.
 *
 * The first half is plain C (returns -errno, knows nothing of N-API); the glue is at the end.
 * Layout of a record and the meaning of each error slot: see src/inspect/scan.ts (SCAN_*), which
 * checks HS_SCAN_LAYOUT before it trusts the numbers.
 *
 * Every per-field failure is kept as its errno (ENOENT/ESRCH: the process vanished; EACCES/EPERM:
 * denied) or as HS_E_PARSE / HS_E_TOOBIG, so the TypeScript side can classify it exactly as the
 * pure-TypeScript reader does. Reads are bounded and opened O_NONBLOCK.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include "hs-napi.h"

#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#define HS_SCAN_LAYOUT 4

/* entries of /proc/<pid>/ns, in the order of NS_ENTRIES (src/parse/ns-link.ts) */
static const char *const ns_entries[] = { "mnt", "net", "time", "cgroup", "pid", "user", "uts", "ipc", "pid_for_children", "time_for_children" };
static const char *const ns_entry_type[] = { "mnt", "net", "time", "cgroup", "pid", "user", "uts", "ipc", "pid", "time" };
#define NNS 10

/* files (bit flags of the `files` argument) */
#define HS_SCAN_IDS 1
#define HS_SCAN_STAT 2
#define HS_SCAN_CGROUP 4
/* the owner of /proc/<pid> (one stat): the effective uid and gid, see scan_one */
#define HS_SCAN_OWNER 8

/* double slots of one record */
enum {
	R_PID = 0,
	R_NS = 1, /* 10 inodes; 0 = none */
	R_UID = R_NS + NNS, /* real, effective, saved, fs */
	R_GID = R_UID + 4,
	R_STAT = R_GID + 4, /* the stat fields below, in this order */
	S_PID = 0, S_STATE, S_PPID, S_PGRP, S_SESSION, S_TTY, S_TPGID, S_FLAGS, S_MINFLT, S_MAJFLT, S_UTIME, S_STIME,
	S_PRIORITY, S_NICE, S_THREADS, S_START, S_VSIZE, S_RSS, S_PROCESSOR, S_COMM_OFF, S_COMM_LEN, S_N,
	R_CG_OFF = R_STAT + S_N,
	R_CG_LEN,
	R_MODE, /* 0: read whole; 1: a known pid (same start time) of which only stat was read; 2: a known pid (same d_ino) of which nothing was read */
	R_COMM_HASH, /* FNV-1a (32 bits) of comm's bytes: the caller sees an exec without decoding comm */
	R_INO, /* d_ino of the /proc/<pid> entry getdents listed (the dentry's inode): the process's identity */
	R_OWNER, /* uid and gid owning /proc/<pid> (HS_SCAN_OWNER) */
	R_NS_SAME = R_OWNER + 2, /* index of an earlier record of this result with the same inodes, every asked entry read; -1: none */
	R_N
};

/* int32 error slots of one record: 0 ok, > 0 errno, or one of HS_E_* */
enum { E_NS = 0, E_IDS = E_NS + NNS, E_STAT, E_CGROUP, E_OWNER, E_N };
#define HS_E_NOTASKED (-1)
#define HS_E_PARSE (-2)
#define HS_E_TOOBIG (-3)

#define STATUS_CAP (16 * 1024)   /* Uid and Gid are in the first few hundred bytes */
#define STAT_CAP 4096            /* 52 numbers and a comm of at most 64 bytes */
#define CGROUP_CAP (1024 * 1024) /* one line per hierarchy; paths are at most PATH_MAX */

struct strtab {
	char *p;
	size_t len, cap;
};

/*
 * cgroup file texts already in a string table: most processes share theirs with many others (a
 * container's), so each text is stored once and its records point at the same offset; the
 * TypeScript side then makes one string (and one parse) per text, not one per process
 */
#define DEDUP_SLOTS 4096
struct dedup {
	uint32_t hash[DEDUP_SLOTS];
	uint32_t len[DEDUP_SLOTS];
	double off[DEDUP_SLOTS];
	unsigned char used[DEDUP_SLOTS];
};

/*
 * the sets of namespaces one thread met, by a hash of their inodes, each with the index of the
 * first record that has it: a container's processes share one set, and the TypeScript side then
 * decodes each set once (R_NS_SAME), not one lookup of eight inodes per process
 */
#define NSDEDUP_SLOTS 4096
struct nsdedup {
	uint32_t hash[NSDEDUP_SLOTS];
	uint32_t used[NSDEDUP_SLOTS];
	size_t idx[NSDEDUP_SLOTS];
};

struct scan {
	/* in */
	unsigned ns_mask;
	unsigned files;
	/*
	 * pids the caller already knows (sorted ascending) with their start times and the d_ino their
	 * /proc entry had: a known pid is read whole when pid % every == phase (the rolling
	 * revalidation: every known pid is read whole once every `every` scans). Otherwise, when
	 * known_fresh says so (NULL: every known pid), only its stat is read, and it is read whole
	 * when its start time differs (a reused pid); when not, nothing at all is read when its entry
	 * has the d_ino it had (the same dentry, so the same process: see docs/adr/0007), and it is
	 * read whole when the d_ino differs.
	 */
	int *known;
	double *known_start;
	double *known_ino;  /* NULL: none known (every known pid then gets its stat read) */
	uint8_t *known_fresh; /* NULL: every known pid gets its stat read */
	size_t nknown;
	unsigned every, phase;
	/* scanPids: the pids to read (owned; NULL: list /proc); one thread only */
	struct entry *given;
	size_t ngiven;
	int one_thread;
	/* scanList: only list /proc, into `listed` (n entries) */
	int list_only;
	int32_t *listed_pids;
	double *listed_inos;
	/* out */
	int err; /* -errno of the scan as a whole (opening /proc) */
	int nice; /* the nice value the reading thread ran at (INT_MIN: unknown) */
	size_t n, cap;
	double *rec;
	int32_t *errs;
	struct strtab str;
	struct dedup *cg; /* this thread's cgroup texts already in str (NULL: none kept) */
	struct nsdedup *nsd; /* this thread's sets of namespaces met (NULL: none kept) */
	char *buf; /* scratch, CGROUP_CAP bytes */
	/* N-API */
	napi_async_work work;
	napi_deferred deferred;
};

static int strtab_add(struct strtab *t, const char *s, size_t len, double *off)
{
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap : 64 * 1024;
		while (cap < t->len + len)
			cap *= 2;
		char *np = realloc(t->p, cap);
		if (!np)
			return -ENOMEM;
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, len);
	*off = (double)t->len;
	t->len += len;
	return 0;
}

/* strtab_add, or the offset of the same bytes added before (when the table has a slot for them) */
static int strtab_add_dedup(struct strtab *t, struct dedup *d, const char *s, size_t len, double *off)
{
	if (!d)
		return strtab_add(t, s, len, off);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	for (size_t k = 0, j = h % DEDUP_SLOTS; k < 8; k++, j = (j + 1) % DEDUP_SLOTS) {
		if (!d->used[j]) {
			int r = strtab_add(t, s, len, off);
			if (r == 0) {
				d->used[j] = 1;
				d->hash[j] = h;
				d->len[j] = (uint32_t)len;
				d->off[j] = *off;
			}
			return r;
		}
		if (d->hash[j] == h && d->len[j] == len && memcmp(t->p + (size_t)d->off[j], s, len) == 0) {
			*off = d->off[j];
			return 0;
		}
	}
	return strtab_add(t, s, len, off);
}

/*
 * read a file under dfd to EOF into buf (at most cap bytes; -EFBIG past that); returns the length.
 * `enough`, when given, says that what was read so far is all the caller needs: the read stops
 * there (saves the system call that would only confirm EOF).
 */
static ssize_t read_bounded(int dfd, const char *name, char *buf, size_t cap, int (*enough)(const char *, size_t))
{
	int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	size_t len = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		if (enough && len > 0 && enough(buf, len))
			break;
		if (len == cap) {
			/* full: one more byte would be too much */
			char c;
			ssize_t r = read(fd, &c, 1);
			close(fd);
			return r == 0 ? (ssize_t)len : -EFBIG;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	return (ssize_t)len;
}

/* status: the Gid line is complete (Uid comes before it) */
static int status_enough(const char *buf, size_t len)
{
	const char *g = memmem(buf, len, "\nGid:", 5);
	return g && memchr(g + 5, '\n', len - (size_t)(g + 5 - buf)) != NULL;
}

/* stat: one line, complete once its newline is in */
static int stat_enough(const char *buf, size_t len)
{
	return buf[len - 1] == '\n';
}

/* "net:[4026531840]" → inode; 0 when it is not of that shape or not of type `type` */
static int parse_ns_link(const char *s, size_t len, const char *type, double *inode)
{
	size_t tl = strlen(type);
	if (len < tl + 4 || memcmp(s, type, tl) != 0 || s[tl] != ':' || s[tl + 1] != '[' || s[len - 1] != ']')
		return HS_E_PARSE;
	uint64_t v = 0;
	size_t i = tl + 2;
	if (i == len - 1)
		return HS_E_PARSE;
	for (; i < len - 1; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return HS_E_PARSE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	/* inodes beyond 2^53 would lose precision as a JS number: refuse rather than round */
	if (v == 0 || v > (1ULL << 53))
		return HS_E_PARSE;
	*inode = (double)v;
	return 0;
}

/* the four tab-separated ids after "\nKey:" */
static int parse_quad(const char *text, size_t len, const char *key, double *out)
{
	char pat[8];
	size_t pl = (size_t)snprintf(pat, sizeof(pat), "\n%s:", key);
	const char *p = memmem(text, len, pat, pl);
	const char *end = text + len;
	if (!p)
		return HS_E_PARSE;
	p += pl;
	for (int i = 0; i < 4; i++) {
		while (p < end && (*p == '\t' || *p == ' '))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return HS_E_PARSE;
		uint64_t v = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			v = v * 10 + (uint64_t)(*p - '0');
			if (v >= UINT32_MAX) /* uid_t is 32 bits; (uid_t)-1 is no id */
				return HS_E_PARSE;
			p++;
		}
		out[i] = (double)v;
	}
	while (p < end && (*p == '\t' || *p == ' '))
		p++;
	return p < end && *p != '\n' ? HS_E_PARSE : 0;
}

/* a decimal, possibly negative, as proc_pid_stat(5) prints it */
static int parse_num(const char **pp, const char *end, double *out)
{
	const char *p = *pp;
	int neg = 0;
	uint64_t v = 0;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return HS_E_PARSE;
	while (p < end && *p >= '0' && *p <= '9') {
		uint64_t d = (uint64_t)(*p - '0');
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return HS_E_PARSE;
		v = v * 10 + d;
		p++;
	}
	if (p < end && *p != ' ' && *p != '\n')
		return HS_E_PARSE;
	*out = neg ? -(double)v : (double)v;
	*pp = p;
	return 0;
}

/*
 * /proc/<pid>/stat, see proc_pid_stat(5): comm is between the first '(' and the LAST ')'.
 * Field n (1-based) after comm: state is 3. Fills the S_* slots of r.
 */
static int parse_stat(const char *text, size_t len, double *r, struct strtab *st)
{
	const char *open = memchr(text, '(', len), *close = NULL, *end = text + len;
	for (const char *q = end; q > text;)
		if (*--q == ')') {
			close = q;
			break;
		}
	if (!open || !close || close < open)
		return HS_E_PARSE;
	const char *p = text;
	while (p < open && *p == ' ')
		p++;
	if (parse_num(&p, open, &r[S_PID]) != 0)
		return HS_E_PARSE;
	if (close + 2 > end)
		return HS_E_PARSE;
	p = close + 2;
	/* field 3: state, one character */
	if (p >= end || *p == ' ' || *p == '\n')
		return HS_E_PARSE;
	r[S_STATE] = (unsigned char)*p;
	p++;
	if (p < end && *p != ' ')
		return HS_E_PARSE;
	/* fields 4.. : which slot each one lands in (-1: skipped) */
	static const signed char slot[] = {
		[4] = S_PPID, [5] = S_PGRP, [6] = S_SESSION, [7] = S_TTY, [8] = S_TPGID, [9] = S_FLAGS, [10] = S_MINFLT,
		[11] = -1, [12] = S_MAJFLT, [13] = -1, [14] = S_UTIME, [15] = S_STIME, [16] = -1, [17] = -1,
		[18] = S_PRIORITY, [19] = S_NICE, [20] = S_THREADS, [21] = -1, [22] = S_START, [23] = S_VSIZE, [24] = S_RSS,
	};
	int field = 3;
	r[S_PROCESSOR] = NAN;
	while (p < end && *p == ' ') {
		p++;
		if (p >= end || *p == '\n')
			break;
		field++;
		double v;
		if (parse_num(&p, end, &v) != 0)
			return HS_E_PARSE;
		if (field < (int)sizeof(slot) && slot[field] > 0)
			r[slot[field]] = v;
		else if (field == 39)
			r[S_PROCESSOR] = v;
	}
	if (field < 24)
		return HS_E_PARSE;
	r[S_COMM_LEN] = (double)(close - open - 1);
	uint32_t h = 2166136261u;
	for (const char *q = open + 1; q < close; q++)
		h = (h ^ (unsigned char)*q) * 16777619u;
	r[R_COMM_HASH - R_STAT] = (double)h;
	return strtab_add(st, open + 1, (size_t)(close - open - 1), &r[S_COMM_OFF]);
}

/* canonical decimal pid names only: "1".."4194304", no sign, no leading zero */
static int pid_name(const char *s)
{
	long v = 0;
	if (s[0] < '1' || s[0] > '9')
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 9)
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v <= INT32_MAX ? (int)v : 0;
}

/* a /proc entry: the pid and the d_ino getdents gave for it */
struct entry {
	int pid;
	double ino;
};

static int cmp_entry(const void *a, const void *b)
{
	int x = ((const struct entry *)a)->pid, y = ((const struct entry *)b)->pid;
	return (x > y) - (x < y);
}

/* is pid one the caller knows; its index in the known arrays, else -1 */
static ssize_t known_index(const struct scan *s, int pid)
{
	size_t lo = 0, hi = s->nknown;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->known[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nknown && s->known[lo] == pid ? (ssize_t)lo : -1;
}

/* R_NS_SAME of record r (errors e), whose ns entries were just read; a new set is remembered */
static void ns_same(struct scan *s, double *r, const int32_t *e)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < NNS; i++) {
		if (!(s->ns_mask & (1u << i)))
			continue;
		if (e[E_NS + i] != 0)
			return;
		uint64_t v = (uint64_t)r[R_NS + i];
		for (int b = 0; b < 8; b++, v >>= 8)
			h = (h ^ (uint32_t)(v & 0xff)) * 16777619u;
	}
	size_t self = (size_t)(r - s->rec) / R_N;
	for (size_t k = 0, j = h % NSDEDUP_SLOTS; k < 8; k++, j = (j + 1) % NSDEDUP_SLOTS) {
		if (!s->nsd->used[j]) {
			s->nsd->used[j] = 1;
			s->nsd->hash[j] = h;
			s->nsd->idx[j] = self;
			return;
		}
		if (s->nsd->hash[j] != h)
			continue;
		const double *o = s->rec + s->nsd->idx[j] * R_N;
		int same = 1;
		for (int i = 0; i < NNS && same; i++)
			if ((s->ns_mask & (1u << i)) && o[R_NS + i] != r[R_NS + i])
				same = 0;
		if (same) {
			r[R_NS_SAME] = (double)s->nsd->idx[j];
			return;
		}
	}
}

/* read and parse "<pid>/stat" into the record's stat slots; returns its error slot (0 ok) */
static int32_t scan_stat(struct scan *s, int procfd, char *path, size_t size, int plen, double *r)
{
	snprintf(path + plen, size - (size_t)plen, "stat");
	ssize_t n = read_bounded(procfd, path, s->buf, STAT_CAP, stat_enough);
	if (n == -EFBIG)
		return HS_E_TOOBIG;
	if (n < 0)
		return (int32_t)-n;
	int pe = parse_stat(s->buf, (size_t)n, &r[R_STAT], &s->str);
	return pe == -ENOMEM ? ENOMEM : pe;
}

/*
 * One process. Every path is relative to /proc ("<pid>/ns/net", "<pid>/stat"), as the TypeScript
 * reader's are: no directory descriptor is opened and closed per process (two system calls of
 * the ~12 a process costs; an O_PATH descriptor would not stop a reused pid either way).
 */
static void scan_one(struct scan *s, int procfd, int pid, double ino, double *r, int32_t *e)
{
	char path[48];
	char link[128];
	int plen = snprintf(path, sizeof(path), "%d/", pid);
	r[R_PID] = pid;
	r[R_INO] = ino;
	r[R_NS_SAME] = -1;
	for (int i = 0; i < E_N; i++)
		e[i] = HS_E_NOTASKED;
	ssize_t k = known_index(s, pid);
	if (k >= 0 && (s->every == 0 || (unsigned)pid % s->every != s->phase)) {
		int fresh = !s->known_fresh || s->known_fresh[k];
		/* d_ino 0 and 1 say nothing (1 is proc_fill_cache's fallback when it could not make the dentry) */
		int by_ino = s->known_ino && s->known_ino[k] > 1 && ino > 1;
		if (by_ino && s->known_ino[k] != ino) {
			/*
			 * another dentry under this pid: a reused pid (the old process's dentries were
			 * invalidated when it was reaped), or the dentry was evicted meanwhile. Read whole
			 * below, even when fresh: a pid reused within one clock tick has the same start time
			 */
		} else if (!fresh && by_ino) {
			/* the same dentry is the same process: nothing is read */
			r[R_MODE] = 2;
			return;
		} else {
			/* its stat (fresh CPU, RSS, state) is all that is read, when it is the same process (same start time) */
			e[E_STAT] = scan_stat(s, procfd, path, sizeof(path), plen, r);
			if (e[E_STAT] != 0 || r[R_STAT + S_START] == s->known_start[k]) {
				r[R_MODE] = 1;
				return;
			}
			/* a new process under a reused pid: read whole below */
			e[E_STAT] = HS_E_NOTASKED;
		}
	}
	for (int i = 0; i < NNS; i++) {
		if (!(s->ns_mask & (1u << i)))
			continue;
		snprintf(path + plen, sizeof(path) - (size_t)plen, "ns/%s", ns_entries[i]);
		ssize_t n = readlinkat(procfd, path, link, sizeof(link));
		if (n < 0)
			e[E_NS + i] = errno;
		else if (n == (ssize_t)sizeof(link))
			e[E_NS + i] = HS_E_PARSE;
		else
			e[E_NS + i] = parse_ns_link(link, (size_t)n, ns_entry_type[i], &r[R_NS + i]);
	}
	if (s->ns_mask && s->nsd)
		ns_same(s, r, e);
	if (s->files & HS_SCAN_OWNER) {
		/*
		 * The owner of the /proc/<pid> directory is the process's effective uid and gid, whether
		 * or not it is dumpable (task_dump_owner: the non-dumpable rule spares this directory;
		 * root for a kernel thread, whose ids are 0 anyway), mapped into the reader's user
		 * namespace as status prints them. One stat: lsns reads the same, and status, which the
		 * kernel prints whole (memory, signals, capabilities …) for two lines, costs ~4× more.
		 */
		struct stat st;
		path[plen - 1] = '\0';
		if (fstatat(procfd, path, &st, 0) < 0)
			e[E_OWNER] = errno;
		else {
			r[R_OWNER] = (double)st.st_uid;
			r[R_OWNER + 1] = (double)st.st_gid;
			e[E_OWNER] = 0;
		}
		path[plen - 1] = '/';
	}
	if (s->files & HS_SCAN_IDS) {
		snprintf(path + plen, sizeof(path) - (size_t)plen, "status");
		ssize_t n = read_bounded(procfd, path, s->buf, STATUS_CAP, status_enough);
		if (n == -EFBIG) /* Uid and Gid come early: what was read is enough */
			n = STATUS_CAP;
		if (n < 0)
			e[E_IDS] = (int32_t)-n;
		else
			e[E_IDS] = parse_quad(s->buf, (size_t)n, "Uid", &r[R_UID]) ?: parse_quad(s->buf, (size_t)n, "Gid", &r[R_GID]);
	}
	if (s->files & HS_SCAN_STAT) {
		e[E_STAT] = scan_stat(s, procfd, path, sizeof(path), plen, r);
	}
	if (s->files & HS_SCAN_CGROUP) {
		snprintf(path + plen, sizeof(path) - (size_t)plen, "cgroup");
		ssize_t n = read_bounded(procfd, path, s->buf, CGROUP_CAP, NULL);
		if (n == -EFBIG)
			e[E_CGROUP] = HS_E_TOOBIG;
		else if (n < 0)
			e[E_CGROUP] = (int32_t)-n;
		else {
			r[R_CG_LEN] = (double)n;
			e[E_CGROUP] = strtab_add_dedup(&s->str, s->cg, s->buf, (size_t)n, &r[R_CG_OFF]) ? ENOMEM : 0;
		}
	}
}

/* a run of pids scanned by one thread, into its own scratch buffer and string table */
struct part {
	struct scan *s;
	int procfd;
	const struct entry *pids;
	size_t from, to;
	char *buf;
	struct strtab str;
	int err;
};

static void *scan_part(void *arg)
{
	struct part *pt = arg;
	/* scan_one writes strings into s->str and reads files into s->buf: a copy with this part's own */
	struct scan local = *pt->s;
	local.buf = pt->buf;
	local.str = pt->str;
	local.cg = calloc(1, sizeof(struct dedup)); /* NULL: every text stored, as before */
	local.nsd = calloc(1, sizeof(struct nsdedup)); /* NULL: no set shared */
	for (size_t i = pt->from; i < pt->to; i++)
		scan_one(&local, pt->procfd, pt->pids[i].pid, pt->pids[i].ino, local.rec + i * R_N, local.errs + i * E_N);
	pt->str = local.str;
	free(local.cg);
	free(local.nsd);
	return NULL;
}

/* the pids in /proc (canonical names only) with their d_ino, sorted by pid; -errno on failure */
static int list_proc(int procfd, struct entry **out, size_t *count)
{
	int dupfd = dup(procfd);
	DIR *d = dupfd < 0 ? NULL : fdopendir(dupfd);
	if (!d) {
		int e = -errno;
		if (dupfd >= 0)
			close(dupfd);
		return e;
	}
	struct entry *pids = NULL;
	size_t np = 0, capp = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int pid = pid_name(de->d_name);
		if (!pid)
			continue;
		if (np == capp) {
			capp = capp ? capp * 2 : 4096;
			struct entry *x = realloc(pids, capp * sizeof(struct entry));
			if (!x) {
				free(pids);
				closedir(d);
				return -ENOMEM;
			}
			pids = x;
		}
		/* the inode of the /proc/<pid> dentry (proc_fill_cache): it identifies the process, see scan_one */
		pids[np].pid = pid;
		pids[np++].ino = (double)de->d_ino;
	}
	closedir(d);
	qsort(pids, np, sizeof(struct entry), cmp_entry);
	*out = pids;
	*count = np;
	return 0;
}

/* below this many processes a second thread costs more than it saves */
#define SCAN_SPLIT_MIN 1024

/*
 * the whole scan; runs on a threadpool thread (and, for a large /proc, one more thread of its own).
 * With s->given (scanPids), exactly those pids, on this one thread: the caller overlaps its own
 * work with the next part's reading instead (see hs_js_scan_pids).
 */
static int hs_scan(struct scan *s)
{
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return -errno;
	struct entry *pids = NULL;
	size_t np = 0;
	if (s->given) {
		pids = s->given;
		np = s->ngiven;
		s->given = NULL;
	} else {
		int r = list_proc(procfd, &pids, &np);
		if (r < 0) {
			close(procfd);
			return r;
		}
	}
	if (s->list_only) {
		close(procfd);
		s->listed_pids = malloc((np ? np : 1) * sizeof(int32_t));
		s->listed_inos = malloc((np ? np : 1) * sizeof(double));
		if (!s->listed_pids || !s->listed_inos) {
			free(pids);
			return -ENOMEM;
		}
		for (size_t i = 0; i < np; i++) {
			s->listed_pids[i] = pids[i].pid;
			s->listed_inos[i] = pids[i].ino;
		}
		free(pids);
		s->n = np;
		return 0;
	}
	s->rec = calloc(np ? np : 1, R_N * sizeof(double));
	s->errs = calloc(np ? np : 1, E_N * sizeof(int32_t));
	s->buf = malloc(CGROUP_CAP);
	if (!s->rec || !s->errs || !s->buf) {
		free(pids);
		close(procfd);
		return -ENOMEM;
	}
	/*
	 * On a large /proc the second half of the pids is read by a thread of our own meanwhile (the
	 * reads are system calls that do not contend: the scan's wall time halves on two cores). Its
	 * strings go to a table of their own, appended afterwards with its offsets moved.
	 */
	struct part second = { .s = s, .procfd = procfd, .pids = pids, .from = np / 2, .to = np };
	pthread_t th;
	int split = !s->one_thread && np >= SCAN_SPLIT_MIN && (second.buf = malloc(CGROUP_CAP)) != NULL && pthread_create(&th, NULL, scan_part, &second) == 0;
	struct part first = { .s = s, .procfd = procfd, .pids = pids, .from = 0, .to = split ? np / 2 : np, .buf = s->buf, .str = s->str };
	scan_part(&first);
	s->str = first.str;
	int err = 0;
	if (split) {
		pthread_join(th, NULL);
		double base = (double)s->str.len, unused;
		if (second.str.len > 0 && strtab_add(&s->str, second.str.p, second.str.len, &unused) != 0)
			err = -ENOMEM;
		for (size_t i = second.from; i < second.to && !err; i++) {
			double *r = s->rec + i * R_N;
			int32_t *e = s->errs + i * E_N;
			if ((s->files & HS_SCAN_STAT) && e[E_STAT] == 0)
				r[R_STAT + S_COMM_OFF] += base;
			if ((s->files & HS_SCAN_CGROUP) && e[E_CGROUP] == 0)
				r[R_CG_OFF] += base;
		}
		free(second.str.p);
	}
	free(second.buf);
	s->n = np;
	free(pids);
	close(procfd);
	return err;
}

static void scan_free(struct scan *s)
{
	free(s->known);
	free(s->known_start);
	free(s->known_ino);
	free(s->known_fresh);
	free(s->rec);
	free(s->errs);
	free(s->str.p);
	free(s->buf);
	free(s->given);
	free(s->listed_pids);
	free(s->listed_inos);
	free(s);
}

/* ---- N-API glue ---------------------------------------------------------------------------- */

/*
 * How much lower than the process's own priority the reading thread runs. The scan reads /proc in
 * the kernel on a threadpool thread while the event loop's thread decodes what it read (and ctop
 * answers keys, the exporter serves): on two busy cores the two compete, and every ms the event
 * loop's thread waits for a core is a ms its timers and input wait (issue 6). At nice +10 the
 * reading thread weighs about a tenth of the event loop's thread, so the scheduler runs the event
 * loop's thread as soon as it wakes; on an idle core nothing changes. Raising one's own nice needs no
 * privilege.
 */
#define HS_SCAN_NICE 10

/*
 * May this thread go back to `base` after raising its nice? Lowering a nice value needs
 * CAP_SYS_NICE or an RLIMIT_NICE that allows it (ceiling 20 - rlim_cur). Without either (docker's
 * default capabilities drop CAP_SYS_NICE), the thread is not niced at all: a threadpool thread
 * left at a lower priority would run every later job (ctop's counter reads, fs.promises) there,
 * and each scan would push it lower.
 */
static bool can_restore_nice(int base)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) == 0 && (d[CAP_TO_INDEX(CAP_SYS_NICE)].effective & CAP_TO_MASK(CAP_SYS_NICE)))
		return true;
	struct rlimit rl;
	return getrlimit(RLIMIT_NICE, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || (long long)rl.rlim_cur >= 20 - (long long)base);
}

/* set on a thread whose way back failed all the same (a seccomp filter?): never niced again */
static __thread bool nice_stuck;

static void scan_execute(napi_env env, void *data)
{
	struct scan *s = data;
	id_t tid = (id_t)syscall(SYS_gettid);
	errno = 0;
	int was = getpriority(PRIO_PROCESS, tid);
	bool known = !(was == -1 && errno != 0);
	int want = known ? (was + HS_SCAN_NICE > 19 ? 19 : was + HS_SCAN_NICE) : was;
	bool niced = known && !nice_stuck && want != was && can_restore_nice(was) && setpriority(PRIO_PROCESS, tid, want) == 0;
	errno = 0;
	int now = getpriority(PRIO_PROCESS, tid);
	s->nice = now == -1 && errno != 0 ? INT_MIN : now;
	/* threads hs_scan starts inherit this thread's nice */
	s->err = hs_scan(s);
	/* back to the process's priority for whatever the threadpool runs next (allowed: see above) */
	if (niced && setpriority(PRIO_PROCESS, tid, was) != 0)
		nice_stuck = true;
}

static void free_ext(napi_env env, void *data, void *hint)
{
	free(data);
}

/* an ArrayBuffer that takes over p (freed by the GC); on failure p is freed here */
static int take_buffer(napi_env env, void *p, size_t len, napi_value *out)
{
	if (!p || len == 0) {
		void *dst;
		free(p);
		return napi_create_arraybuffer(env, 0, &dst, out) == napi_ok ? 0 : -1;
	}
	if (napi_create_external_arraybuffer(env, p, len, free_ext, NULL, out) == napi_ok)
		return 0;
	/* runtimes that forbid external buffers: copy */
	void *dst;
	int r = napi_create_arraybuffer(env, len, &dst, out) == napi_ok ? (memcpy(dst, p, len), 0) : -1;
	free(p);
	return r;
}


static void scan_complete(napi_env env, napi_status status, void *data)
{
	struct scan *s = data;
	napi_value result, v, rec, errs, str;
	if (status != napi_ok || s->err < 0) {
		hs_reject_errno(env, s->deferred, s->err < 0 ? -s->err : ECANCELED, "scan(/proc)");
		napi_delete_async_work(env, s->work);
		scan_free(s);
		return;
	}
	napi_create_object(env, &result);
	if (s->list_only) {
		napi_value pids, inos;
		int bad = take_buffer(env, s->listed_pids, s->n * sizeof(int32_t), &pids);
		bad |= take_buffer(env, s->listed_inos, s->n * sizeof(double), &inos);
		s->listed_pids = NULL;
		s->listed_inos = NULL;
		if (bad) {
			hs_reject(env, s->deferred, "hostscope native: cannot hand the listing to JavaScript");
		} else {
			napi_set_named_property(env, result, "pids", pids);
			napi_set_named_property(env, result, "inos", inos);
			napi_create_uint32(env, (uint32_t)s->n, &v);
			napi_set_named_property(env, result, "count", v);
			napi_resolve_deferred(env, s->deferred, result);
		}
		napi_delete_async_work(env, s->work);
		scan_free(s);
		return;
	}
	int bad = take_buffer(env, s->rec, s->n * R_N * sizeof(double), &rec);
	bad |= take_buffer(env, s->errs, s->n * E_N * sizeof(int32_t), &errs);
	bad |= take_buffer(env, s->str.p, s->str.len, &str);
	s->rec = NULL;
	s->errs = NULL;
	s->str.p = NULL;
	if (bad) {
		hs_reject(env, s->deferred, "hostscope native: cannot hand the scan to JavaScript");
	} else {
		napi_set_named_property(env, result, "records", rec);
		napi_set_named_property(env, result, "errors", errs);
		napi_set_named_property(env, result, "strings", str);
		napi_create_uint32(env, (uint32_t)s->n, &v);
		napi_set_named_property(env, result, "count", v);
		if (s->nice != INT_MIN) {
			napi_create_int32(env, s->nice, &v);
			napi_set_named_property(env, result, "nice", v);
		}
		napi_resolve_deferred(env, s->deferred, result);
	}
	napi_delete_async_work(env, s->work);
	scan_free(s);
}

/* a typed array's elements (type and length checked); NULL with *n = 0 when v is undefined */
static int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *n)
{
	napi_valuetype t;
	*data = NULL;
	*n = 0;
	if (napi_typeof(env, v, &t) != napi_ok)
		return -1;
	if (t == napi_undefined)
		return 0;
	bool is;
	napi_typedarray_type type;
	if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
	    napi_get_typedarray_info(env, v, &type, n, data, NULL, NULL) != napi_ok || type != want)
		return -1;
	return 0;
}

/* queue s on the threadpool; its promise, or NULL with an exception pending (s freed) */
static napi_value queue_scan(napi_env env, struct scan *s)
{
	napi_value promise, name;
	if (napi_create_promise(env, &s->deferred, &promise) != napi_ok ||
	    napi_create_string_utf8(env, "hostscope.scan", NAPI_AUTO_LENGTH, &name) != napi_ok ||
	    napi_create_async_work(env, NULL, name, scan_execute, scan_complete, s, &s->work) != napi_ok ||
	    napi_queue_async_work(env, s->work) != napi_ok) {
		scan_free(s);
		napi_throw_error(env, NULL, "hostscope native: cannot queue the scan");
		return NULL;
	}
	return promise;
}

/*
 * scan(nsMask, files[, knownPids: Int32Array (ascending), knownStarts: Float64Array, every, phase
 *      [, knownInos: Float64Array, knownFresh: Uint8Array]]) → Promise<{count, records: ArrayBuffer, errors: ArrayBuffer, strings: ArrayBuffer}>
 */
napi_value hs_js_scan(napi_env env, napi_callback_info info)
{
	size_t argc = 8;
	napi_value argv[8];
	uint32_t ns_mask = 0, files = 0, every = 0, phase = 0;
	void *kp = NULL, *ks = NULL, *ki = NULL, *kf = NULL;
	size_t nkp = 0, nks = 0, nki = 0, nkf = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
	    napi_get_value_uint32(env, argv[0], &ns_mask) != napi_ok || napi_get_value_uint32(env, argv[1], &files) != napi_ok ||
	    (argc >= 4 && (typed_arg(env, argv[2], napi_int32_array, &kp, &nkp) != 0 || typed_arg(env, argv[3], napi_float64_array, &ks, &nks) != 0 || nkp != nks)) ||
	    (argc >= 6 && (napi_get_value_uint32(env, argv[4], &every) != napi_ok || napi_get_value_uint32(env, argv[5], &phase) != napi_ok)) ||
	    (argc >= 7 && (typed_arg(env, argv[6], napi_float64_array, &ki, &nki) != 0 || (ki && nki != nkp))) ||
	    (argc >= 8 && (typed_arg(env, argv[7], napi_uint8_array, &kf, &nkf) != 0 || (kf && nkf != nkp)))) {
		napi_throw_type_error(env, NULL, "hostscope native: scan(nsMask, files[, knownPids Int32Array, knownStarts Float64Array, every, phase[, knownInos Float64Array, knownFresh Uint8Array]])");
		return NULL;
	}
	struct scan *s = calloc(1, sizeof(*s));
	if (!s) {
		napi_throw_error(env, NULL, "hostscope native: out of memory");
		return NULL;
	}
	s->ns_mask = ns_mask & ((1u << NNS) - 1);
	s->files = files;
	s->every = every;
	s->phase = every ? phase % every : 0;
	if (nkp > 0) {
		/* copies: the caller's arrays may change while the scan runs on another thread */
		s->known = malloc(nkp * sizeof(int));
		s->known_start = malloc(nkp * sizeof(double));
		if (!s->known || !s->known_start) {
			scan_free(s);
			napi_throw_error(env, NULL, "hostscope native: out of memory");
			return NULL;
		}
		memcpy(s->known, kp, nkp * sizeof(int));
		memcpy(s->known_start, ks, nkp * sizeof(double));
		if (ki) {
			if (!(s->known_ino = malloc(nkp * sizeof(double)))) {
				scan_free(s);
				napi_throw_error(env, NULL, "hostscope native: out of memory");
				return NULL;
			}
			memcpy(s->known_ino, ki, nkp * sizeof(double));
		}
		if (kf) {
			if (!(s->known_fresh = malloc(nkp))) {
				scan_free(s);
				napi_throw_error(env, NULL, "hostscope native: out of memory");
				return NULL;
			}
			memcpy(s->known_fresh, kf, nkp);
		}
		s->nknown = nkp;
		for (size_t i = 1; i < nkp; i++)
			if (s->known[i - 1] >= s->known[i]) {
				scan_free(s);
				napi_throw_range_error(env, NULL, "hostscope native: scan's known pids must be ascending");
				return NULL;
			}
	}
	return queue_scan(env, s);
}


/*
 * scanList() → Promise<{count, pids: ArrayBuffer (int32, ascending), inos: ArrayBuffer (float64)}>:
 * the pids of /proc and the d_ino of each entry, for scanPids
 */
napi_value hs_js_scan_list(napi_env env, napi_callback_info info)
{
	struct scan *s = calloc(1, sizeof(*s));
	if (!s) {
		napi_throw_error(env, NULL, "hostscope native: out of memory");
		return NULL;
	}
	s->list_only = 1;
	return queue_scan(env, s);
}

/*
 * scanPids(nsMask, files, pids: Int32Array, inos: Float64Array) → the same promise as scan(), for
 * exactly these pids (a part of scanList's, in its order), read by one thread. A caller reading the
 * whole host in parts overlaps decoding one part with the reading of the next: the two cores then
 * do different work, where scan()'s second reading thread contends with the first in the kernel
 * (the namespaces' and the tasks' shared counters) and costs CPU.
 */
napi_value hs_js_scan_pids(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4];
	uint32_t ns_mask = 0, files = 0;
	void *kp = NULL, *ki = NULL;
	size_t nkp = 0, nki = 0;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
	    napi_get_value_uint32(env, argv[0], &ns_mask) != napi_ok || napi_get_value_uint32(env, argv[1], &files) != napi_ok ||
	    typed_arg(env, argv[2], napi_int32_array, &kp, &nkp) != 0 || typed_arg(env, argv[3], napi_float64_array, &ki, &nki) != 0 || nkp != nki) {
		napi_throw_type_error(env, NULL, "hostscope native: scanPids(nsMask, files, pids Int32Array, inos Float64Array)");
		return NULL;
	}
	struct scan *s = calloc(1, sizeof(*s));
	if (!s || !(s->given = malloc((nkp ? nkp : 1) * sizeof(struct entry)))) {
		free(s);
		napi_throw_error(env, NULL, "hostscope native: out of memory");
		return NULL;
	}
	s->ns_mask = ns_mask & ((1u << NNS) - 1);
	s->files = files;
	s->one_thread = 1;
	s->ngiven = nkp;
	for (size_t i = 0; i < nkp; i++) {
		int pid = ((const int32_t *)kp)[i];
		if (pid <= 0) {
			scan_free(s);
			napi_throw_range_error(env, NULL, "hostscope native: scanPids: a pid must be positive");
			return NULL;
		}
		/* copies: the caller's arrays may change while the scan runs on another thread */
		s->given[i].pid = pid;
		s->given[i].ino = ((const double *)ki)[i];
	}
	return queue_scan(env, s);
}

/* the record layout, so the TypeScript side can check it matches what it decodes */
napi_value hs_js_scan_layout(napi_env env, napi_callback_info info)
{
	napi_value out, v;
	napi_create_object(env, &out);
#define PUT(k, x)                                        \
	do {                                             \
		napi_create_int32(env, (x), &v);         \
		napi_set_named_property(env, out, k, v); \
	} while (0)
	PUT("version", HS_SCAN_LAYOUT);
	PUT("recordLength", R_N);
	PUT("errorLength", E_N);
	PUT("ns", R_NS);
	PUT("uid", R_UID);
	PUT("gid", R_GID);
	PUT("stat", R_STAT);
	PUT("statLength", S_N);
	PUT("cgroupOffset", R_CG_OFF);
	PUT("mode", R_MODE);
	PUT("commHash", R_COMM_HASH);
	PUT("ino", R_INO);
	PUT("errIds", E_IDS);
	PUT("errStat", E_STAT);
	PUT("errCgroup", E_CGROUP);
	PUT("owner", R_OWNER);
	PUT("nsSame", R_NS_SAME);
	PUT("errOwner", E_OWNER);
	PUT("errNotAsked", HS_E_NOTASKED);
	PUT("errParse", HS_E_PARSE);
	PUT("errTooBig", HS_E_TOOBIG);
#undef PUT
	return out;
}
