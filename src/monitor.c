/* monitor.c: monitor endpoints: parsing their specs, the sockets, reading
 * commands and writing replies (monitor.h). The commands themselves are in
 * monitor_cmd.c. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define INBUF 16384
#define OUTBUF 16384

enum ep_kind { EP_HMP, EP_QMP };

struct endpoint {
	enum ep_kind kind;
	bool used;
	bool stdio;
	int listen_fd;	/* -1 for stdio */
	int in_fd, out_fd; /* the client, or -1 */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char buf[INBUF];
	size_t len;
	bool negotiated; /* QMP: qmp_capabilities seen */
};

struct monitor {
	struct monitor_ops ops;
	struct endpoint ep[2]; /* [EP_HMP], [EP_QMP] */
};

const struct monitor_ops *monitor_ops_of(const struct monitor *m)
{
	return &m->ops;
}

static const char *const ep_option[] = { "-monitor", "-qmp" };

/* ---- endpoint specs and sockets ---- */

struct ep_spec {
	bool stdio, server, wait;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int parse_props(char *props, struct ep_spec *s, char *err, size_t errlen)
{
	char *save = NULL;
	s->wait = true;
	for (char *p = strtok_r(props, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (!strcmp(p, "server") || !strcmp(p, "server=on"))
			s->server = true;
		else if (!strcmp(p, "nowait") || !strcmp(p, "wait=off"))
			s->wait = false;
		else if (!strcmp(p, "wait=on") || !strcmp(p, "server=off"))
			s->server &= strcmp(p, "server=off") != 0;
		else {
			snprintf(err, errlen, "unknown property '%s' (server=on, wait=off)", p);
			return -1;
		}
	}
	if (!s->server) {
		snprintf(err, errlen, "only listening sockets are supported: add ,server=on");
		return -1;
	}
	return 0;
}

static int parse_spec(const char *spec, struct ep_spec *s, char *err, size_t errlen)
{
	char buf[256];
	*s = (struct ep_spec){ 0 };
	if (!strcmp(spec, "stdio")) {
		s->stdio = true;
		return 0;
	}
	if (strncmp(spec, "unix:", 5) || strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "expected unix:PATH,server=on[,wait=off] or stdio");
		return -1;
	}
	strcpy(buf, spec + 5);
	char *comma = strchr(buf, ',');
	if (comma)
		*comma = '\0';
	if (!buf[0] || strlen(buf) >= sizeof(s->path)) {
		snprintf(err, errlen, "bad socket path");
		return -1;
	}
	strcpy(s->path, buf);
	return comma ? parse_props(comma + 1, s, err, errlen)
		     : parse_props((char[]){ "" }, s, err, errlen);
}

static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		unlink(path); /* a stale socket from an earlier run, as QEMU does */
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0)
			return fd;
		close(fd);
	}
	snprintf(err, errlen, "%s: cannot listen: %s", path, strerror(errno));
	return -1;
}

/* ---- writing ---- */

static void ep_write(struct endpoint *e, const char *s)
{
	size_t n = strlen(s);
	while (n && e->out_fd >= 0) {
		ssize_t w = e->stdio ? write(e->out_fd, s, n) : send(e->out_fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the client went away; reading will notice */
		s += w;
		n -= (size_t)w;
	}
}

static void ep_greet(struct endpoint *e)
{
	if (e->kind == EP_QMP)
		ep_write(e, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 1, "
			    "\"major\": 0}, \"package\": \"cetvm\"}, \"capabilities\": []}}\r\n");
	else
		ep_write(e, "cetvm monitor - type 'help' for more information\n(cetvm) ");
}

static void ep_accept(struct endpoint *e)
{
	int fd = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	e->in_fd = e->out_fd = fd;
	e->len = 0;
	e->negotiated = false;
	ep_greet(e);
}

static void ep_hangup(struct endpoint *e)
{
	if (!e->stdio && e->in_fd >= 0)
		close(e->in_fd);
	e->in_fd = e->out_fd = -1;
	e->len = 0;
}

/* ---- creating ---- */

static int ep_open(struct endpoint *e, enum ep_kind kind, const char *spec, bool stdio_busy,
		   char *err, size_t errlen)
{
	struct ep_spec s;
	char why[200];
	*e = (struct endpoint){ .kind = kind, .listen_fd = -1, .in_fd = -1, .out_fd = -1 };
	if (parse_spec(spec, &s, why, sizeof(why)) ||
	    (s.stdio && (kind == EP_QMP || stdio_busy))) {
		snprintf(err, errlen, "%s %s: %s", ep_option[kind], spec,
			 s.stdio ? (kind == EP_QMP ? "QMP on stdio is not supported"
						   : "stdio is taken by -serial stdio; add -serial none")
				 : why);
		return -1;
	}
	e->used = true;
	e->stdio = s.stdio;
	if (s.stdio) {
		e->in_fd = STDIN_FILENO;
		e->out_fd = STDOUT_FILENO;
		ep_greet(e);
		return 0;
	}
	strcpy(e->path, s.path);
	e->listen_fd = listen_unix(s.path, why, sizeof(why));
	if (e->listen_fd < 0) {
		snprintf(err, errlen, "%s %s: %s", ep_option[kind], spec, why);
		return -1;
	}
	if (s.wait) {
		log_info("%s: waiting for a connection on %s", ep_option[kind], s.path);
		ep_accept(e);
	}
	return 0;
}

static void ep_close(struct endpoint *e)
{
	if (!e->used)
		return;
	ep_hangup(e);
	if (e->listen_fd >= 0) {
		close(e->listen_fd);
		unlink(e->path);
	}
	e->used = false;
}

struct monitor *monitor_create(const char *hmp, const char *qmp, bool stdio_busy,
			       const struct monitor_ops *ops, char *err, size_t errlen)
{
	struct monitor *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->ops = *ops;
	if ((hmp && ep_open(&m->ep[EP_HMP], EP_HMP, hmp, stdio_busy, err, errlen)) ||
	    (qmp && ep_open(&m->ep[EP_QMP], EP_QMP, qmp, stdio_busy, err, errlen))) {
		monitor_destroy(m);
		return NULL;
	}
	return m;
}

void monitor_destroy(struct monitor *m)
{
	if (!m)
		return;
	ep_close(&m->ep[EP_HMP]);
	ep_close(&m->ep[EP_QMP]);
	free(m);
}

bool monitor_alive(const struct monitor *m)
{
	for (int i = 0; i < 2; i++)
		if (m->ep[i].used && (m->ep[i].listen_fd >= 0 || m->ep[i].in_fd >= 0))
			return true;
	return false;
}

/* ---- reading and running commands ---- */

/* Length of the first complete JSON object in buf (braces outside
 * strings balance), or 0 if there is none yet. */
static size_t json_object_len(const char *buf, size_t len)
{
	int depth = 0;
	bool str = false, esc = false;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (str) {
			esc = !esc && c == '\\';
			str = esc || c != '"';
		} else if (c == '"') {
			str = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if ((c == '}' || c == ']') && --depth <= 0) {
			return i + 1;
		}
	}
	return 0;
}

static size_t hmp_take(struct monitor *m, struct endpoint *e, char *out)
{
	char *nl = memchr(e->buf, '\n', e->len);
	if (!nl)
		return 0;
	*nl = '\0';
	monitor_hmp_command(m, e->buf, out, OUTBUF - 16);
	if (e->in_fd >= 0)
		strcat(out, "(cetvm) ");
	return (size_t)(nl - e->buf) + 1;
}

static size_t qmp_take(struct monitor *m, struct endpoint *e, char *out)
{
	size_t skip = 0;
	while (skip < e->len && strchr(" \t\r\n", e->buf[skip]))
		skip++;
	size_t n = json_object_len(e->buf + skip, e->len - skip);
	if (!n)
		return skip == e->len ? skip : 0;
	monitor_qmp_command(m, e->buf + skip, n, &e->negotiated, out, OUTBUF);
	return skip + n;
}

/* Run the complete commands in e->buf; keep the rest. */
static void ep_run(struct monitor *m, struct endpoint *e)
{
	static char out[OUTBUF];
	for (;;) {
		out[0] = '\0';
		size_t used = e->kind == EP_HMP ? hmp_take(m, e, out) : qmp_take(m, e, out);
		if (!used)
			break;
		ep_write(e, out);
		memmove(e->buf, e->buf + used, e->len - used);
		e->len -= used;
	}
	if (e->len == INBUF) { /* a command that never ends: drop it */
		ep_write(e, e->kind == EP_QMP ? "{\"error\": {\"class\": \"GenericError\", \"desc\": "
						"\"command too long\"}}\r\n"
					      : "command too long\n(cetvm) ");
		e->len = 0;
	}
}

static void ep_read(struct monitor *m, struct endpoint *e)
{
	ssize_t r = read(e->in_fd, e->buf + e->len, INBUF - e->len);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		ep_hangup(e);
		return;
	}
	e->len += (size_t)r;
	ep_run(m, e);
}

void monitor_poll(struct monitor *m, int timeout_ms, int extra_fd)
{
	struct pollfd p[5];
	struct endpoint *who[5];
	int n = 0;
	for (int i = 0; i < 2; i++) {
		struct endpoint *e = &m->ep[i];
		/* One client at a time, as QEMU: the next waits in the backlog. */
		if (e->used && e->listen_fd >= 0 && e->in_fd < 0)
			who[n] = e, p[n++] = (struct pollfd){ .fd = e->listen_fd, .events = POLLIN };
		if (e->used && e->in_fd >= 0)
			who[n] = e, p[n++] = (struct pollfd){ .fd = e->in_fd, .events = POLLIN };
	}
	if (extra_fd >= 0)
		who[n] = NULL, p[n++] = (struct pollfd){ .fd = extra_fd, .events = POLLIN };
	if (poll(p, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (int i = 0; i < n; i++) {
		if (!who[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (p[i].fd == who[i]->listen_fd)
			ep_accept(who[i]);
		else if (p[i].fd == who[i]->in_fd)
			ep_read(m, who[i]);
	}
}
