/* monitor_cmd.c: the monitor's commands, human (HMP) and JSON (QMP). */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "monitor.h"

#define ERRLEN 256

/* ---- human monitor ---- */

static const char hmp_help[] =
	"cont|c                 resume the guest\n"
	"help|?                 this list\n"
	"info registers         the vCPU's registers, CET state included\n"
	"info status            running or paused\n"
	"quit|q                 end cetvm\n"
	"savevm FILE            write a snapshot of the machine to FILE (resume: -loadvm FILE)\n"
	"stop                   pause the guest\n";

static void say_result(int r, const char *err, char *out, size_t n)
{
	if (r)
		snprintf(out, n, "Error: %s\n", err);
}

static void hmp_info(const struct monitor_ops *ops, const char *what, char *out, size_t n)
{
	if (!strcmp(what, "registers"))
		ops->info_registers(ops->ctx, out, n);
	else if (!strcmp(what, "status"))
		snprintf(out, n, "VM status: %s\n", ops->running(ops->ctx) ? "running" : "paused");
	else
		snprintf(out, n, "info: unknown subcommand '%s' (registers, status)\n", what);
}

void monitor_hmp_command(struct monitor *m, const char *line, char *out, size_t n)
{
	const struct monitor_ops *ops = monitor_ops_of(m);
	char cmd[32] = "", arg[4096] = "", extra[8] = "";
	char err[ERRLEN];
	int r = 0;
	out[0] = '\0';
	int k = sscanf(line, "%31s %4095s %7s", cmd, arg, extra);
	if (k <= 0)
		return;
	if (k == 3) {
		snprintf(out, n, "%s: too many arguments\n", cmd);
	} else if (!strcmp(cmd, "help") || !strcmp(cmd, "?")) {
		snprintf(out, n, "%s", hmp_help);
	} else if (!strcmp(cmd, "stop") || !strcmp(cmd, "cont") || !strcmp(cmd, "c")) {
		r = cmd[0] == 's' ? ops->stop(ops->ctx, err, sizeof(err))
				  : ops->cont(ops->ctx, err, sizeof(err));
		say_result(r, err, out, n);
	} else if (!strcmp(cmd, "savevm")) {
		r = k < 2 ? -1 : ops->savevm(ops->ctx, arg, err, sizeof(err));
		say_result(r, k < 2 ? "savevm needs a file name" : err, out, n);
	} else if (!strcmp(cmd, "info")) {
		hmp_info(ops, k < 2 ? "" : arg, out, n);
	} else if (!strcmp(cmd, "quit") || !strcmp(cmd, "q")) {
		ops->quit(ops->ctx);
	} else {
		snprintf(out, n, "unknown command: '%s'\n", cmd);
	}
}

/* ---- QMP ---- */

static void qmp_reply(char *out, size_t n, const char *body, const char *id, const char *id_end)
{
	if (id)
		snprintf(out, n, "{%s, \"id\": %.*s}\r\n", body, (int)(id_end - id), id);
	else
		snprintf(out, n, "{%s}\r\n", body);
}

static void qmp_error(char *out, size_t n, const char *klass, const char *desc, const char *id,
		      const char *id_end)
{
	char body[ERRLEN + 128];
	snprintf(body, sizeof(body), "\"error\": {\"class\": \"%s\", \"desc\": ", klass);
	json_quote(body, sizeof(body) - 1, desc);
	strcat(body, "}");
	qmp_reply(out, n, body, id, id_end);
}

static const char *const qmp_names[] = { "qmp_capabilities", "query-status", "stop", "cont",
					 "quit", "savevm", "human-monitor-command",
					 "query-commands" };

static void qmp_commands(char *body, size_t n)
{
	snprintf(body, n, "\"return\": [");
	for (size_t i = 0; i < ARRAY_SIZE(qmp_names); i++)
		snprintf(body + strlen(body), n - strlen(body), "%s{\"name\": \"%s\"}",
			 i ? ", " : "", qmp_names[i]);
	strncat(body, "]", n - strlen(body) - 1);
}

/* A string argument of the command, or NULL. */
static const char *qmp_arg(const char *json, const char *end, const char *key, char *buf,
			   size_t n)
{
	const char *a, *aend, *v, *vend;
	if (!json_member(json, end, "arguments", &a, &aend) ||
	    !json_member(a, aend, key, &v, &vend) || !json_string(v, vend, buf, n))
		return NULL;
	return buf;
}

/* Run one negotiated command; 0, or -1 with *klass and err set. */
static int qmp_run(struct monitor *m, const char *name, const char *json, const char *end,
		   char *body, size_t n, char *err, const char **klass)
{
	const struct monitor_ops *ops = monitor_ops_of(m);
	char arg[4096];
	*klass = "GenericError";
	snprintf(body, n, "\"return\": {}");
	if (!strcmp(name, "stop"))
		return ops->stop(ops->ctx, err, ERRLEN);
	if (!strcmp(name, "cont"))
		return ops->cont(ops->ctx, err, ERRLEN);
	if (!strcmp(name, "quit")) {
		ops->quit(ops->ctx);
		return 0;
	}
	if (!strcmp(name, "query-status")) {
		bool run = ops->running(ops->ctx);
		snprintf(body, n, "\"return\": {\"status\": \"%s\", \"singlestep\": false, "
				  "\"running\": %s}", run ? "running" : "paused", run ? "true" : "false");
		return 0;
	}
	if (!strcmp(name, "query-commands")) {
		qmp_commands(body, n);
		return 0;
	}
	if (!strcmp(name, "savevm")) {
		if (qmp_arg(json, end, "file", arg, sizeof(arg)))
			return ops->savevm(ops->ctx, arg, err, ERRLEN);
		snprintf(err, ERRLEN, "savevm: missing string argument 'file'");
		return -1;
	}
	if (!strcmp(name, "human-monitor-command")) {
		char text[8192];
		if (!qmp_arg(json, end, "command-line", arg, sizeof(arg))) {
			snprintf(err, ERRLEN, "missing string argument 'command-line'");
			return -1;
		}
		monitor_hmp_command(m, arg, text, sizeof(text));
		snprintf(body, n, "\"return\": ");
		json_quote(body, n, text);
		return 0;
	}
	*klass = "CommandNotFound";
	snprintf(err, ERRLEN, "The command %s has not been found", name);
	return -1;
}

void monitor_qmp_command(struct monitor *m, const char *json, size_t len, bool *negotiated,
			 char *out, size_t n)
{
	const char *end = json + len, *id = NULL, *id_end = NULL, *v, *vend, *klass;
	char name[64], err[ERRLEN], body[12288];
	json_member(json, end, "id", &id, &id_end);
	if (!json_skip(json, end) || !json_member(json, end, "execute", &v, &vend) ||
	    !json_string(v, vend, name, sizeof(name))) {
		qmp_error(out, n, "GenericError", "Expected a JSON object with a string 'execute'",
			  id, id_end);
		return;
	}
	if (!strcmp(name, "qmp_capabilities")) {
		*negotiated = true;
		qmp_reply(out, n, "\"return\": {}", id, id_end);
	} else if (!*negotiated) {
		qmp_error(out, n, "CommandNotFound",
			  "Expecting capabilities negotiation with 'qmp_capabilities'", id, id_end);
	} else if (qmp_run(m, name, json, end, body, sizeof(body), err, &klass)) {
		qmp_error(out, n, klass, err, id, id_end);
	} else {
		qmp_reply(out, n, body, id, id_end);
	}
}
