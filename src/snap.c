/* snap.c: the snapshot file container (snap.h). */
#include "snap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[8] = { 'C', 'E', 'T', 'V', 'M', 'S', 'N', 'P' };
#define HEADER_SIZE 24
#define TRAILER_SIZE 4
#define SECTION_HEAD 12

/* ---- CRC-32 (IEEE 802.3, reflected, as zlib's crc32) ---- */

static u32 crc_table[256];

static void crc_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

u32 snap_crc32(u32 crc, const void *p, size_t n)
{
	if (!crc_table[1])
		crc_init();
	const u8 *b = p;
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- building a section in memory ---- */

void snap_buf_put(struct snap_buf *b, const void *p, size_t n)
{
	if (b->oom || n == 0) /* p may be NULL then, which memcpy does not allow */
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		u8 *d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void snap_buf_u8(struct snap_buf *b, u8 v)
{
	snap_buf_put(b, &v, 1);
}

void snap_buf_u32(struct snap_buf *b, u32 v)
{
	snap_buf_put(b, &v, 4);
}

void snap_buf_u64(struct snap_buf *b, u64 v)
{
	snap_buf_put(b, &v, 8);
}

void snap_buf_free(struct snap_buf *b)
{
	free(b->data);
	*b = (struct snap_buf){ 0 };
}

/* ---- writing ---- */

static void out_fail(struct snap_out *o, const char *what)
{
	if (!o->failed)
		snprintf(o->err, sizeof(o->err), "%s: %s: %s", o->path, what, strerror(errno));
	o->failed = true;
}

int snap_out_open(struct snap_out *o, const char *path)
{
	*o = (struct snap_out){ 0 };
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + 5);
	if (!o->path || !o->tmp) {
		snprintf(o->err, sizeof(o->err), "%s: out of memory", path);
		return -1;
	}
	sprintf(o->tmp, "%s.tmp", path);
	o->f = fopen(o->tmp, "wb");
	if (!o->f) {
		snprintf(o->err, sizeof(o->err), "%s: cannot create: %s", path, strerror(errno));
		free(o->path);
		free(o->tmp);
		return -1;
	}
	u8 header[HEADER_SIZE] = { 0 }; /* rewritten by close */
	if (fwrite(header, 1, HEADER_SIZE, o->f) != HEADER_SIZE)
		out_fail(o, "write failed");
	return 0;
}

void snap_out_put(struct snap_out *o, const void *p, size_t n)
{
	if (o->failed)
		return;
	if (fwrite(p, 1, n, o->f) != n) {
		out_fail(o, "write failed");
		return;
	}
	o->crc = snap_crc32(o->crc, p, n);
	o->len += n;
}

void snap_out_begin(struct snap_out *o, const char tag[4], u64 len)
{
	snap_out_put(o, tag, 4);
	snap_out_put(o, &len, 8);
}

void snap_out_section(struct snap_out *o, const char tag[4], const struct snap_buf *b)
{
	if (b->oom) {
		errno = ENOMEM;
		out_fail(o, "building the snapshot");
		return;
	}
	snap_out_begin(o, tag, b->len);
	snap_out_put(o, b->data, b->len);
}

static void out_header(struct snap_out *o, u8 *h)
{
	u32 version = SNAP_VERSION, flags = 0;
	memcpy(h, magic, 8);
	memcpy(h + 8, &version, 4);
	memcpy(h + 12, &flags, 4);
	memcpy(h + 16, &o->len, 8);
}

static void out_finish(struct snap_out *o)
{
	u8 h[HEADER_SIZE];
	out_header(o, h);
	u32 crc = snap_crc32(o->crc, h, HEADER_SIZE);
	if (!o->failed && fwrite(&crc, 1, 4, o->f) != 4)
		out_fail(o, "write failed");
	if (!o->failed && (fseek(o->f, 0, SEEK_SET) || fwrite(h, 1, HEADER_SIZE, o->f) != HEADER_SIZE))
		out_fail(o, "write failed");
	if (!o->failed && (fflush(o->f) || fsync(fileno(o->f))))
		out_fail(o, "write failed");
}

int snap_out_close(struct snap_out *o)
{
	out_finish(o);
	if (fclose(o->f) && !o->failed)
		out_fail(o, "write failed");
	if (!o->failed && rename(o->tmp, o->path))
		out_fail(o, "cannot rename the finished file into place");
	if (o->failed)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	return o->failed ? -1 : 0;
}

/* ---- reading ---- */

static int in_check(struct snap_in *in, char *err, size_t errlen)
{
	const u8 *m = in->map;
	u32 version, crc;
	if (in->size < HEADER_SIZE + TRAILER_SIZE || memcmp(m, magic, 8)) {
		snprintf(err, errlen, "not a cetvm snapshot%s",
			 in->size < HEADER_SIZE + TRAILER_SIZE ? " (too short)" : "");
		return -1;
	}
	memcpy(&in->len, m + 16, 8);
	if (in->len != in->size - HEADER_SIZE - TRAILER_SIZE) {
		snprintf(err, errlen, "truncated or padded: the header announces %llu bytes of data, "
				      "the file has %llu",
			 (unsigned long long)in->len,
			 (unsigned long long)(in->size - HEADER_SIZE - TRAILER_SIZE));
		return -1;
	}
	in->payload = m + HEADER_SIZE;
	memcpy(&crc, m + in->size - TRAILER_SIZE, 4);
	if (snap_crc32(snap_crc32(0, in->payload, in->len), m, HEADER_SIZE) != crc) {
		snprintf(err, errlen, "checksum mismatch: the file is corrupted");
		return -1;
	}
	memcpy(&version, m + 8, 4);
	if (version != SNAP_VERSION) {
		snprintf(err, errlen, "format version %u; this cetvm reads version %u", version,
			 SNAP_VERSION);
		return -1;
	}
	return 0;
}

int snap_in_open(struct snap_in *in, const char *path, char *err, size_t errlen)
{
	*in = (struct snap_in){ 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		close(fd);
		return -1;
	}
	in->size = (size_t)st.st_size;
	void *m = in->size ? mmap(NULL, in->size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, in->size ? "cannot map: %s" : "not a cetvm snapshot (empty)",
			 strerror(errno));
		return -1;
	}
	in->map = m;
	if (in_check(in, err, errlen)) {
		snap_in_close(in);
		return -1;
	}
	return 0;
}

void snap_in_close(struct snap_in *in)
{
	if (in->map)
		munmap((void *)in->map, in->size);
	*in = (struct snap_in){ 0 };
}

/* Walk the sections; false at a framing error. */
static bool next_section(const struct snap_in *in, u64 *pos, char tag[4], struct snap_cur *c)
{
	if (in->len - *pos < SECTION_HEAD)
		return false;
	u64 len;
	memcpy(tag, in->payload + *pos, 4);
	memcpy(&len, in->payload + *pos + 4, 8);
	if (len > in->len - *pos - SECTION_HEAD)
		return false;
	*c = (struct snap_cur){ .p = in->payload + *pos + SECTION_HEAD, .len = len };
	*pos += SECTION_HEAD + len;
	return true;
}

bool snap_in_section(const struct snap_in *in, const char tag[4], int n, struct snap_cur *c)
{
	u64 pos = 0;
	char t[4];
	while (pos < in->len && next_section(in, &pos, t, c))
		if (!memcmp(t, tag, 4) && n-- == 0)
			return true;
	return false;
}

bool snap_in_tags_known(const struct snap_in *in, const char *const *tags, int ntags,
			char *bad_tag)
{
	u64 pos = 0;
	char t[4];
	struct snap_cur c;
	while (pos < in->len) {
		if (!next_section(in, &pos, t, &c)) {
			memcpy(bad_tag, "????", 4);
			return false;
		}
		int i = 0;
		while (i < ntags && memcmp(tags[i], t, 4))
			i++;
		if (i == ntags) {
			memcpy(bad_tag, t, 4);
			return false;
		}
	}
	return true;
}

const u8 *snap_bytes(struct snap_cur *c, u64 n)
{
	if (c->bad || n > c->len - c->pos) {
		c->bad = true;
		return NULL;
	}
	const u8 *p = c->p + c->pos;
	c->pos += n;
	return p;
}

void snap_get(struct snap_cur *c, void *p, size_t n)
{
	const u8 *s = snap_bytes(c, n);
	if (s)
		memcpy(p, s, n);
	else
		memset(p, 0, n);
}

u8 snap_u8(struct snap_cur *c)
{
	u8 v;
	snap_get(c, &v, 1);
	return v;
}

u32 snap_u32(struct snap_cur *c)
{
	u32 v;
	snap_get(c, &v, 4);
	return v;
}

u64 snap_u64(struct snap_cur *c)
{
	u64 v;
	snap_get(c, &v, 8);
	return v;
}

bool snap_done(const struct snap_cur *c)
{
	return !c->bad && c->pos == c->len;
}
