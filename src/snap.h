/* snap.h: the snapshot file container: a versioned, checksummed list of
 * tagged sections. What goes in the sections is the machine's business
 * (vm_snap.c); this file only frames and checks them.
 *
 * File layout (little-endian):
 *   "CETVMSNP"  u32 version  u32 flags (0)  u64 payload length
 *   payload: sections, each  char tag[4]  u64 length  length bytes
 *   u32 CRC-32 of the payload followed by the 24 header bytes
 *
 * Writing goes to "<path>.tmp" and is renamed over <path> only when
 * complete and flushed, so a failed save never damages an existing file.
 * Reading checks size, magic, checksum and version before anyone looks at
 * a section, so a damaged file is refused as a whole.
 */
#ifndef CETVM_SNAP_H
#define CETVM_SNAP_H

#include <stddef.h>
#include <stdio.h>

#include "types.h"

#define SNAP_VERSION 1

/* A growing in-memory buffer for building one section. */
struct snap_buf {
	u8 *data;
	size_t len, cap;
	bool oom;
};

void snap_buf_put(struct snap_buf *b, const void *p, size_t n);
void snap_buf_u8(struct snap_buf *b, u8 v);
void snap_buf_u32(struct snap_buf *b, u32 v);
void snap_buf_u64(struct snap_buf *b, u64 v);
void snap_buf_free(struct snap_buf *b);

/* A snapshot file being written. */
struct snap_out {
	FILE *f;
	char *path, *tmp;
	u32 crc;
	u64 len; /* payload bytes so far */
	bool failed;
	char err[200];
};

/* Open "<path>.tmp" for writing; 0 or -1 with out->err set. */
int snap_out_open(struct snap_out *o, const char *path);
/* A section from a buffer, or a section header for `len` bytes that the
 * caller then writes with snap_out_put(). */
void snap_out_section(struct snap_out *o, const char tag[4], const struct snap_buf *b);
void snap_out_begin(struct snap_out *o, const char tag[4], u64 len);
void snap_out_put(struct snap_out *o, const void *p, size_t n);
/* Finish: checksum, flush, fsync, rename. 0, or -1 with o->err set (the
 * temporary file is removed and <path> is untouched). */
int snap_out_close(struct snap_out *o);

/* A snapshot file mapped for reading. */
struct snap_in {
	const u8 *map;
	size_t size;
	const u8 *payload;
	u64 len;
};

/* Map and check the file. 0, or -1 with a one-line reason in err. */
int snap_in_open(struct snap_in *in, const char *path, char *err, size_t errlen);
void snap_in_close(struct snap_in *in);

/* Reading one section: a cursor that turns every overrun into `bad`. */
struct snap_cur {
	const u8 *p;
	u64 len, pos;
	bool bad;
};

/* Find the n-th (from 0) section with this tag; false if there is none. */
bool snap_in_section(const struct snap_in *in, const char tag[4], int n, struct snap_cur *c);
/* Every section is framed correctly and has one of the `ntags` tags. */
bool snap_in_tags_known(const struct snap_in *in, const char *const *tags, int ntags,
			char *bad_tag);
void snap_get(struct snap_cur *c, void *p, size_t n);
u8 snap_u8(struct snap_cur *c);
u32 snap_u32(struct snap_cur *c);
u64 snap_u64(struct snap_cur *c);
/* A pointer to the next n bytes, or NULL (and bad) if there are fewer. */
const u8 *snap_bytes(struct snap_cur *c, u64 n);
/* The cursor read exactly its section. */
bool snap_done(const struct snap_cur *c);

u32 snap_crc32(u32 crc, const void *p, size_t n);

#endif
