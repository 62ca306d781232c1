/* test_snap.c: the snapshot container (snap.c) and the device state tables
 * (dev/devsnap.c): round trip; every truncation, every single-bit flip and
 * a foreign version refused before any section is read; a failed save
 * leaves the old file alone; out-of-range device fields refused with the
 * device untouched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/devsnap.h"
#include "dev/uart.h"
#include "snap.h"
#include "unit.h"

static char dir[] = "/tmp/cetvm-test-snap-XXXXXX";

static char *path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ & 3];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* A small file: two sections. */
static int write_sample(const char *file)
{
	struct snap_out o;
	struct snap_buf b = { 0 };
	if (snap_out_open(&o, file))
		return -1;
	snap_buf_u32(&b, 0x11223344);
	snap_buf_u64(&b, 0x5566778899aabbccull);
	snap_out_section(&o, "AAAA", &b);
	snap_out_begin(&o, "BBBB", 3);
	snap_out_put(&o, "xyz", 3);
	snap_buf_free(&b);
	return snap_out_close(&o);
}

static u8 *slurp(const char *file, size_t *n)
{
	FILE *f = fopen(file, "rb");
	static u8 buf[4096];
	*n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	return buf;
}

static void spit(const char *file, const u8 *p, size_t n)
{
	FILE *f = fopen(file, "wb");
	fwrite(p, 1, n, f);
	fclose(f);
}

static bool opens(const char *file, char *err)
{
	struct snap_in in;
	if (snap_in_open(&in, file, err, 200))
		return false;
	snap_in_close(&in);
	return true;
}

static void test_round_trip(void)
{
	char err[200];
	struct snap_in in;
	struct snap_cur c;
	const char *f = path("a.snap");
	report(write_sample(f) == 0 && access(path("a.snap.tmp"), F_OK) != 0,
	       "save: the file is written and no .tmp is left");
	bool ok = snap_in_open(&in, f, err, sizeof(err)) == 0;
	report(ok, "open: a fresh file passes the checks (%s)", ok ? "ok" : err);
	if (!ok)
		return;
	bool a = snap_in_section(&in, "AAAA", 0, &c) && snap_u32(&c) == 0x11223344 &&
		 snap_u64(&c) == 0x5566778899aabbccull && snap_done(&c);
	report(a, "section AAAA reads back");
	bool b = snap_in_section(&in, "BBBB", 0, &c) && c.len == 3 && !memcmp(snap_bytes(&c, 3), "xyz", 3);
	report(b, "section BBBB reads back");
	report(!snap_in_section(&in, "CCCC", 0, &c) && !snap_in_section(&in, "AAAA", 1, &c),
	       "absent sections are not found");
	snap_in_section(&in, "BBBB", 0, &c);
	snap_bytes(&c, 3);
	bool was_done = snap_done(&c);
	snap_u8(&c);
	report(was_done && c.bad && !snap_done(&c),
	       "reading past a section's end marks the cursor bad");
	static const char *const known[] = { "AAAA" };
	char tag[5] = "";
	report(!snap_in_tags_known(&in, known, 1, tag) && !memcmp(tag, "BBBB", 4),
	       "an unknown section tag is reported (%s)", tag);
	snap_in_close(&in);
}

static void test_damage(void)
{
	char err[200];
	size_t n;
	u8 good[4096];
	memcpy(good, slurp(path("a.snap"), &n), sizeof(good));
	bool all = n > 0;
	for (size_t len = 0; len < n; len++) {
		spit(path("t.snap"), good, len);
		all &= !opens(path("t.snap"), err);
	}
	report(all, "every truncation (0..%zu bytes) is refused", n - 1);
	all = true;
	for (size_t bit = 0; bit < n * 8; bit++) {
		u8 bad[4096];
		memcpy(bad, good, n);
		bad[bit / 8] ^= (u8)(1u << (bit % 8));
		spit(path("f.snap"), bad, n);
		all &= !opens(path("f.snap"), err);
	}
	report(all, "every single-bit flip of the %zu-byte file is refused", n);
	u8 longer[4097];
	memcpy(longer, good, n);
	longer[n] = 0;
	spit(path("p.snap"), longer, n + 1);
	report(!opens(path("p.snap"), err) && strstr(err, "truncated or padded"),
	       "trailing bytes are refused (%s)", err);
}

/* A file that is well formed and checksummed but says version 2. */
static void test_version(void)
{
	char err[200];
	size_t n;
	u8 f[4096];
	memcpy(f, slurp(path("a.snap"), &n), sizeof(f));
	u32 v = 2, crc;
	memcpy(f + 8, &v, 4);
	u64 len;
	memcpy(&len, f + 16, 8);
	crc = snap_crc32(snap_crc32(0, f + 24, len), f, 24);
	memcpy(f + n - 4, &crc, 4);
	spit(path("v.snap"), f, n);
	report(!opens(path("v.snap"), err) && strstr(err, "format version 2"),
	       "another format version is refused by name (%s)", err);
	report(snap_crc32(0, "123456789", 9) == 0xcbf43926, "CRC-32 check value");
}

static void test_failed_save(void)
{
	char err[200];
	const char *f = path("keep.snap");
	write_sample(f);
	mkdir(path("keep.snap.tmp"), 0700); /* the temporary cannot be created */
	struct snap_out o;
	int r = snap_out_open(&o, f);
	report(r == -1 && strstr(o.err, "cannot create") && opens(f, err),
	       "a save that cannot start names the file and leaves the old one (%s)", o.err);
	rmdir(path("keep.snap.tmp"));
	r = snap_out_open(&o, path("nodir/x.snap"));
	report(r == -1 && strstr(o.err, "nodir/x.snap"), "a missing directory: %s", o.err);
	/* A save that fails after it began: nothing replaces the old file. */
	r = snap_out_open(&o, f);
	snap_out_put(&o, "junk", 4);
	o.failed = true;
	snprintf(o.err, sizeof(o.err), "simulated");
	report(r == 0 && snap_out_close(&o) == -1 && opens(f, err) &&
		       access(path("keep.snap.tmp"), F_OK) != 0,
	       "a save that fails midway removes its .tmp and keeps the old file");
}

static void test_devsnap(void)
{
	struct uart u, v;
	memset(&u, 0, sizeof(u));
	u.rx_head = 3;
	u.rx_count = 2;
	u.lcr = 0x83;
	struct snap_buf b = { 0 };
	devsnap_save(&devsnap_uart, &u, &b);
	report(b.len == devsnap_size(&devsnap_uart), "UART state is %zu bytes", b.len);
	memset(&v, 0xee, sizeof(v));
	v.tx = NULL;
	struct snap_cur c = { .p = b.data, .len = b.len };
	report(devsnap_load(&devsnap_uart, &v, &c) && v.rx_head == 3 && v.rx_count == 2 &&
		       v.lcr == 0x83 && snap_done(&c),
	       "UART state loads back");
	/* rx_head indexes the FIFO: 16 or more must be refused. */
	size_t off = sizeof(u.rx_fifo);
	b.data[off] = UART_FIFO_SIZE;
	struct uart w = v;
	c = (struct snap_cur){ .p = b.data, .len = b.len };
	report(!devsnap_load(&devsnap_uart, &w, &c) && !memcmp(&w, &v, sizeof(w)),
	       "an out-of-range FIFO index is refused, the UART untouched");
	b.data[off] = 3;
	b.data[b.len - 1] = 2; /* irq_level: a bool */
	c = (struct snap_cur){ .p = b.data, .len = b.len };
	report(!devsnap_load(&devsnap_uart, &w, &c), "a bool that is not 0 or 1 is refused");
	c = (struct snap_cur){ .p = b.data, .len = b.len - 1 };
	report(!devsnap_load(&devsnap_uart, &w, &c), "short state is refused");
	snap_buf_free(&b);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		report(0, "mkdtemp: %s", strerror(errno));
		return 0;
	}
	test_round_trip();
	test_damage();
	test_version();
	test_failed_save();
	test_devsnap();
	const char *names[] = { "a.snap", "t.snap", "f.snap", "p.snap", "v.snap", "keep.snap" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		unlink(path(names[i]));
	rmdir(dir);
	return 0;
}
