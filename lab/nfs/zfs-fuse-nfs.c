/*
 * zfs-fuse-nfs.c: loaded into the lab's zfs-fuse (LD_PRELOAD) so that nfs-ganesha's FSAL VFS, which
 * keeps kernel file handles (name_to_handle_at / open_by_handle_at), can serve its datasets.
 *
 * Three things zfs-fuse 0.7 lacks, each fixed at the libfuse 2.9 low-level interface, where
 * zfs-fuse hands libfuse its operations (fuse_lowlevel_new) and answers requests (fuse_reply_*):
 *
 * 1. It never asks for FUSE_CAP_EXPORT_SUPPORT. Without it the kernel cannot turn a file handle back
 *    into an inode once the inode has left its cache (drop_caches, memory pressure): ESTALE for good.
 *    The init operation added here asks for it.
 * 2. With export support, the kernel rebuilds an uncached inode by LOOKUP(ino, "."), and checks the
 *    generation in the reply against the one in the handle. zfs-fuse answers "." only for
 *    directories (ZFS's lookup wants a directory). For any other inode the answer is built here:
 *    its attributes from zfs-fuse's own getattr, its generation as zfs-fuse gave it in an earlier
 *    lookup or create reply (remembered below per mount and inode). An inode never seen, or gone,
 *    is answered ENOENT, which the kernel reports as ESTALE: the truth, the handle cannot be used.
 * 3. ZFS refuses file times outside 32 bits (EOVERFLOW). NFSv4 exclusive create stores its
 *    verifier in atime/mtime, often past 2038, and ganesha's create then fails (NFS4ERR_INVAL).
 *    setattr clamps times into the 32-bit range (a retried exclusive create cannot match its
 *    verifier then and gets EEXIST instead of the file).
 *
 * Everything else passes through unchanged. The declarations below are the parts of libfuse 2.9's
 * ABI (fuse_common.h, fuse_lowlevel.h) this file uses; the build needs no libfuse headers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct fuse_req *fuse_req_t;
typedef unsigned long fuse_ino_t;
struct fuse_args;
struct fuse_session;
struct fuse_file_info;

struct fuse_conn_info {
	unsigned proto_major, proto_minor, async_read, max_write, max_readahead;
	unsigned capable, want, max_background, congestion_threshold, reserved[23];
};
#define FUSE_CAP_EXPORT_SUPPORT (1 << 4)
#define FUSE_SET_ATTR_ATIME (1 << 4)
#define FUSE_SET_ATTR_MTIME (1 << 5)

struct fuse_entry_param {
	fuse_ino_t ino;
	unsigned long generation;
	struct stat attr;
	double attr_timeout;
	double entry_timeout;
};

/* The first members of struct fuse_lowlevel_ops, in their order; the rest is copied as bytes. */
struct ops_head {
	void (*init)(void *userdata, struct fuse_conn_info *conn);
	void (*destroy)(void *userdata);
	void (*lookup)(fuse_req_t req, fuse_ino_t parent, const char *name);
	void (*forget)(fuse_req_t req, fuse_ino_t ino, unsigned long nlookup);
	void (*getattr)(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
	void (*setattr)(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi);
};

void *fuse_req_userdata(fuse_req_t req);

static struct fuse_session *(*real_lowlevel_new)(struct fuse_args *, const void *, size_t, void *);
static int (*real_reply_entry)(fuse_req_t, const struct fuse_entry_param *);
static int (*real_reply_create)(fuse_req_t, const struct fuse_entry_param *, const struct fuse_file_info *);
static int (*real_reply_attr)(fuse_req_t, const struct stat *, double);
static int (*real_reply_err)(fuse_req_t, int);

static union {
	struct ops_head head;
	char bytes[1024]; /* libfuse 2.9's struct fuse_lowlevel_ops is 47 pointers */
} wrapped;
static struct ops_head original;

static void *must_find(const char *name, const char *version)
{
	void *fn = dlvsym(RTLD_NEXT, name, version);
	if (!fn) {
		fprintf(stderr, "zfs-fuse-nfs: %s@%s not found: %s\n", name, version, dlerror());
		abort();
	}
	return fn;
}

/*
 * zfs-fuse is started with LD_PRELOAD naming this library; its children (it starts none in the lab,
 * but libfuse may run fusermount) must not load it again.
 */
__attribute__((constructor)) static void setup(void)
{
	unsetenv("LD_PRELOAD");
	real_lowlevel_new = must_find("fuse_lowlevel_new", "FUSE_2.6");
	real_reply_entry = must_find("fuse_reply_entry", "FUSE_2.4");
	real_reply_create = must_find("fuse_reply_create", "FUSE_2.5");
	real_reply_attr = must_find("fuse_reply_attr", "FUSE_2.4");
	real_reply_err = must_find("fuse_reply_err", "FUSE_2.4");
}

/* ---- generations zfs-fuse gave out, per mount (its userdata) and inode ---------------------- */

struct known {
	struct known *next;
	void *mount;
	fuse_ino_t ino;
	unsigned long generation;
	mode_t mode;
};

#define BUCKETS 65536
static struct known *buckets[BUCKETS];
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t bucket_of(void *mount, fuse_ino_t ino)
{
	return ((uintptr_t)mount / 64 ^ ino * 2654435761u) % BUCKETS;
}

static void remember(void *mount, const struct fuse_entry_param *e)
{
	if (e->ino == 0)
		return; /* a negative lookup */
	size_t b = bucket_of(mount, e->ino);
	pthread_mutex_lock(&known_lock);
	struct known *k = buckets[b];
	while (k && !(k->mount == mount && k->ino == e->ino))
		k = k->next;
	if (!k && (k = calloc(1, sizeof *k))) {
		k->mount = mount;
		k->ino = e->ino;
		k->next = buckets[b];
		buckets[b] = k;
	}
	if (k) {
		k->generation = e->generation;
		k->mode = e->attr.st_mode;
	}
	pthread_mutex_unlock(&known_lock);
}

static int recall(void *mount, fuse_ino_t ino, struct known *out)
{
	pthread_mutex_lock(&known_lock);
	struct known *k = buckets[bucket_of(mount, ino)];
	while (k && !(k->mount == mount && k->ino == ino))
		k = k->next;
	if (k)
		*out = *k;
	pthread_mutex_unlock(&known_lock);
	return k != NULL;
}

/* ---- the "." lookup: zfs-fuse answers in the calling thread, so its reply is caught here ------- */

static __thread struct {
	fuse_req_t req;
	fuse_ino_t ino;
	unsigned long generation;
} dot;

int fuse_reply_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	remember(fuse_req_userdata(req), e);
	return real_reply_entry(req, e);
}

int fuse_reply_create(fuse_req_t req, const struct fuse_entry_param *e, const struct fuse_file_info *fi)
{
	remember(fuse_req_userdata(req), e);
	return real_reply_create(req, e, fi);
}

int fuse_reply_attr(fuse_req_t req, const struct stat *attr, double attr_timeout)
{
	if (req != dot.req)
		return real_reply_attr(req, attr, attr_timeout);
	struct fuse_entry_param e = { .ino = dot.ino, .generation = dot.generation, .attr = *attr, .attr_timeout = attr_timeout };
	return real_reply_entry(req, &e);
}

/* getattr says ENODATA for an inode that is gone, lookup ENOTDIR for "." in a file not seen yet. */
int fuse_reply_err(fuse_req_t req, int err)
{
	if (req == dot.req && (err == ENODATA || err == ENOTDIR))
		err = ENOENT;
	return real_reply_err(req, err);
}

static void lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (strcmp(name, ".") != 0) {
		original.lookup(req, parent, name);
		return;
	}
	struct known k;
	int file = recall(fuse_req_userdata(req), parent, &k) && !S_ISDIR(k.mode);
	dot.req = req;
	dot.ino = parent;
	dot.generation = file ? k.generation : 0;
	if (file)
		original.getattr(req, parent, NULL);
	else
		original.lookup(req, parent, name);
	dot.req = NULL;
}

/* ---- times and export support ------------------------------------------------------------- */

static time_t clamp32(time_t t)
{
	return t > INT32_MAX ? INT32_MAX : t < INT32_MIN ? INT32_MIN : t;
}

static void setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct stat clamped = *attr;
	if (to_set & FUSE_SET_ATTR_ATIME)
		clamped.st_atime = clamp32(clamped.st_atime);
	if (to_set & FUSE_SET_ATTR_MTIME)
		clamped.st_mtime = clamp32(clamped.st_mtime);
	original.setattr(req, ino, &clamped, to_set, fi);
}

static void init(void *userdata, struct fuse_conn_info *conn)
{
	if (original.init)
		original.init(userdata, conn);
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
}

/* zfs-fuse passes the same operations for every dataset it mounts; they are wrapped once. */
static pthread_once_t wrap_once = PTHREAD_ONCE_INIT;
static const void *wrap_ops;
static size_t wrap_size;

static void wrap(void)
{
	memcpy(&wrapped, wrap_ops, wrap_size);
	original = wrapped.head;
	wrapped.head.init = init;
	wrapped.head.lookup = lookup;
	wrapped.head.setattr = setattr;
}

struct fuse_session *fuse_lowlevel_new(struct fuse_args *args, const void *op, size_t op_size, void *userdata)
{
	if (op_size > sizeof wrapped || op_size < sizeof(struct ops_head)) {
		fprintf(stderr, "zfs-fuse-nfs: unexpected fuse_lowlevel_ops size %zu: not wrapped\n", op_size);
		return real_lowlevel_new(args, op, op_size, userdata);
	}
	wrap_ops = op;
	wrap_size = op_size;
	pthread_once(&wrap_once, wrap);
	return real_lowlevel_new(args, &wrapped, op_size, userdata);
}
