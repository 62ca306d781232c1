/* json.c: see json.h. Grammar from RFC 8259; depth-limited. */
#include "json.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

static const char *ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	return s;
}

static const char *skip_string(const char *s, const char *end)
{
	for (s++; s < end; s++) {
		if (*s == '"')
			return s + 1;
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\' && ++s == end)
			return NULL;
	}
	return NULL;
}

static const char *skip_value(const char *s, const char *end, int depth);

/* Object or array: open/close are the brackets; objects have keys. */
static const char *skip_compound(const char *s, const char *end, int depth, char close, bool keys)
{
	s = ws(s + 1, end);
	if (s < end && *s == close)
		return s + 1;
	for (;;) {
		if (keys) {
			s = s < end && *s == '"' ? skip_string(s, end) : NULL;
			s = s ? ws(s, end) : NULL;
			if (!s || s == end || *s != ':')
				return NULL;
			s++;
		}
		s = skip_value(s, end, depth + 1);
		s = s ? ws(s, end) : NULL;
		if (!s || s == end)
			return NULL;
		if (*s == close)
			return s + 1;
		if (*s != ',')
			return NULL;
		s = ws(s + 1, end);
	}
}

static const char *skip_literal(const char *s, const char *end)
{
	static const char *const words[] = { "true", "false", "null" };
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(end - s) >= n && !memcmp(s, words[i], n))
			return s + n;
	}
	const char *p = s;
	if (p < end && *p == '-')
		p++;
	while (p < end && *p && strchr("0123456789.eE+-", *p))
		p++;
	return p > s && (p[-1] >= '0' && p[-1] <= '9') ? p : NULL;
}

static const char *skip_value(const char *s, const char *end, int depth)
{
	s = ws(s, end);
	if (s == end || depth > MAX_DEPTH)
		return NULL;
	if (*s == '"')
		return skip_string(s, end);
	if (*s == '{')
		return skip_compound(s, end, depth, '}', true);
	if (*s == '[')
		return skip_compound(s, end, depth, ']', false);
	return skip_literal(s, end);
}

const char *json_skip(const char *s, const char *end)
{
	return skip_value(s, end, 0);
}

bool json_member(const char *s, const char *end, const char *key, const char **v,
		 const char **vend)
{
	s = ws(s, end);
	if (s == end || *s != '{' || !json_skip(s, end))
		return false;
	s = ws(s + 1, end);
	while (s < end && *s == '"') {
		char name[64];
		const char *kend = skip_string(s, end);
		bool match = json_string(s, kend, name, sizeof(name)) && !strcmp(name, key);
		s = ws(kend, end) + 1; /* past ':' (json_skip checked the shape) */
		const char *val = ws(s, end), *vn = json_skip(val, end);
		if (match) {
			*v = val;
			*vend = vn;
			return true;
		}
		s = ws(vn, end);
		if (*s == ',')
			s = ws(s + 1, end);
	}
	return false;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* One escape after the backslash at *s; the decoded byte, or -1. */
static int unescape(const char **s, const char *end)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *p = strchr(from, **s);
	if (**s && p) {
		(*s)++;
		return to[p - from];
	}
	if (**s != 'u' || end - *s < 5)
		return -1;
	int v = 0;
	for (int i = 1; i <= 4; i++) {
		int h = hex((*s)[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	*s += 5;
	return v >= 1 && v <= 0xff ? v : -1;
}

bool json_string(const char *v, const char *vend, char *out, size_t n)
{
	if (!v || !vend || vend - v < 2 || *v != '"' || vend[-1] != '"')
		return false;
	size_t k = 0;
	for (const char *s = v + 1; s < vend - 1;) {
		int c = (unsigned char)*s++;
		if (c == '\\')
			c = unescape(&s, vend - 1);
		if (c <= 0 || k + 1 >= n)
			return false;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return true;
}

/* Strings longer than the buffer are cut, but the result stays a
 * well-formed literal. */
void json_quote(char *buf, size_t n, const char *s)
{
	size_t k = strlen(buf);
	if (k + 3 > n)
		return;
	buf[k++] = '"';
	for (; *s && k + 8 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			k += (size_t)sprintf(buf + k, "\\%c", c);
		else if (c == '\n')
			k += (size_t)sprintf(buf + k, "\\n");
		else if (c < 0x20)
			k += (size_t)sprintf(buf + k, "\\u%04x", c);
		else
			buf[k++] = (char)c;
	}
	buf[k++] = '"';
	buf[k] = '\0';
}
