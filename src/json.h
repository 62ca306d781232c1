/* json.h: the little JSON that QMP needs: find a member of an object,
 * decode a string, quote a string. Values are handled as raw text ranges
 * [s, end) of the input; nothing is allocated. */
#ifndef CETVM_JSON_H
#define CETVM_JSON_H

#include <stddef.h>

#include "types.h"

/* Skip whitespace, then one JSON value; returns the end of the value, or
 * NULL if [s, end) does not start with a well-formed value. */
const char *json_skip(const char *s, const char *end);
/* Text of member `key` of the object in [s, end), or false (not an
 * object, malformed, or no such member). */
bool json_member(const char *s, const char *end, const char *key, const char **v,
		 const char **vend);
/* The JSON string [v, vend) decoded into out (NUL-terminated); false if it
 * is not a string, has a NUL or a \u escape beyond Latin-1, or is too long. */
bool json_string(const char *v, const char *vend, char *out, size_t n);
/* Append `s` as a JSON string literal to the NUL-terminated buf. */
void json_quote(char *buf, size_t n, const char *s);

#endif
