/* qmp-client: send QMP commands to cetvm (or QEMU) over a UNIX socket.
 *
 *   qmp-client SOCKET 'JSON' ['JSON' ...]
 *
 * Connects (retrying for up to 10 s while the socket does not exist yet),
 * prints the greeting line, then sends each command and prints the reply
 * line for it. Exits 0 when every reply arrived (errors included: callers
 * check the text), 1 when the connection failed or closed early. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int connect_retry(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	for (int i = 0; i < 200; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	return -1;
}

/* Print one line (up to '\n') from fd; false at end of file. Event lines
 * ("event") are printed and skipped. */
static int read_reply(int fd)
{
	for (;;) {
		char line[65536];
		size_t n = 0;
		while (n + 1 < sizeof(line)) {
			ssize_t r = read(fd, line + n, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return 0;
			if (line[n++] == '\n')
				break;
		}
		line[n] = '\0';
		fputs(line, stdout);
		if (!strstr(line, "\"event\""))
			return 1;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: qmp-client SOCKET 'JSON' ...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* each reply as it comes */
	signal(SIGPIPE, SIG_IGN);          /* a closed socket is an error, not death */
	int fd = connect_retry(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "qmp-client: %s: cannot connect\n", argv[1]);
		return 1;
	}
	if (!read_reply(fd))
		return 1;
	for (int i = 2; i < argc; i++) {
		char cmd[65536];
		int len = snprintf(cmd, sizeof(cmd), "%s\n", argv[i]);
		if (len >= (int)sizeof(cmd) || write(fd, cmd, (size_t)len) != len || !read_reply(fd)) {
			fprintf(stderr, "qmp-client: connection closed at command %d\n", i - 1);
			return 1;
		}
	}
	close(fd);
	return 0;
}
